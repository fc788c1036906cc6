// The dependency-cruiser rule set, generated from parts.json (the map of parts and the arrows that
// must never exist). .dependency-cruiser.cjs uses it for `npm run lint`; test/repo/ plants
// violations in a scratch tree to prove each rule fires. Rule names say which arrow broke.
'use strict';

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `src/x/` → `^src/x/`, `src/a.ts` → `^src/a\.ts$`. */
const pathPattern = (p) => (p.endsWith('/') ? `^${escapeRegex(p)}` : `^${escapeRegex(p)}$`);
const partPaths = (parts, name) => {
  const part = parts[name];
  if (!part) throw new Error(`parts.json: unknown part "${name}"`);
  return part.is.map(pathPattern);
};
const kebab = (s) => s.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

/** @param {any} map the parsed parts.json @returns {import('dependency-cruiser').IForbiddenRuleType[]} */
function rulesFromParts(map) {
  const parts = map.parts;
  const names = Object.keys(parts);
  const rules = [];
  const never = (from, to, rule, comment) =>
    rules.push({
      name: rule,
      comment,
      severity: 'error',
      from: { path: partPaths(parts, from) },
      to: { path: partPaths(parts, to) },
    });

  // The one-way layers: each imports only those to its right.
  const layers = map.layers ?? [];
  layers.forEach((lower, i) => {
    for (const upper of layers.slice(0, i)) {
      never(
        lower,
        upper,
        `layer-${kebab(lower)}-not-${kebab(upper)}`,
        `${lower} sits below ${upper} in the layers ${layers.join(' -> ')}: it must not import ${upper}`,
      );
    }
  });
  for (const [from, to, why] of map.never ?? []) {
    never(
      from,
      to,
      `never-${kebab(from)}-to-${kebab(to)}`,
      `${from} must not import ${to}: ${why}`,
    );
  }
  for (const name of names) {
    const part = parts[name];
    const others = names.filter((n) => n !== name).flatMap((n) => partPaths(parts, n));
    if (part.leaf) {
      rules.push({
        name: `leaf-${kebab(name)}`,
        comment: `${name} is a leaf part: it imports no other part of ours`,
        severity: 'error',
        from: { path: partPaths(parts, name) },
        to: { path: others },
      });
    }
    if (part.devOnly) {
      const allowed = [name, ...(map.devOnlyImporters ?? [])].flatMap((n) => partPaths(parts, n));
      rules.push({
        name: `dev-only-${kebab(name)}`,
        comment: `${name} is never production: only ${(map.devOnlyImporters ?? []).join(', ')} may import it`,
        severity: 'error',
        from: { path: '^src/', pathNot: allowed },
        to: { path: partPaths(parts, name) },
      });
    }
    if (part.top) {
      const tops = names.filter((n) => parts[n].top).flatMap((n) => partPaths(parts, n));
      rules.push({
        name: `top-${kebab(name)}`,
        comment: `${name} is a top part: only the top parts may import it`,
        severity: 'error',
        from: { path: '^src/', pathNot: tops },
        to: { path: partPaths(parts, name) },
      });
    }
  }
  const all = names.flatMap((n) => partPaths(parts, n));
  rules.push(
    {
      name: 'folder-in-no-part',
      comment: 'every file under src/ belongs to a part of parts.json: add its folder to a part',
      severity: 'error',
      from: { path: '^src/', pathNot: all },
      to: {},
    },
    {
      name: 'folder-in-no-part',
      comment: 'every file under src/ belongs to a part of parts.json: add its folder to a part',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: all },
    },
    {
      // A file that imports nothing and that nothing imports escapes the two rules above.
      name: 'folder-in-no-part',
      comment: 'every file under src/ belongs to a part of parts.json: add its folder to a part',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: all },
      to: {},
    },
    {
      name: 'no-deep-import',
      comment:
        "a folder's index.ts is its only face: import another folder through it, never a file inside",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles between files',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  );
  return rules;
}

module.exports = { rulesFromParts };
