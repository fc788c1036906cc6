// dependency-cruiser configuration for `npm run lint`: the rules come from parts.json through
// scripts/dependency-rules.cjs, so the map and the check cannot drift apart.
'use strict';
const { rulesFromParts } = require('./scripts/dependency-rules.cjs');

module.exports = {
  forbidden: rulesFromParts(require('./parts.json')),
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are arrows too: `import type` from a layer above is still a layer break.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
