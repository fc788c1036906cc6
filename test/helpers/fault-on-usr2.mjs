// Preload for the CLI fault test: SIGUSR2 makes the process throw from a timer, i.e. an exception
// that no handler of the gateway catches (as a bug would).
process.on('SIGUSR2', () => {
  setImmediate(() => {
    throw new Error('injected fault');
  });
});
