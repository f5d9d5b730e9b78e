#!/usr/bin/env node
// Lints Cypher texts with Neo4j's own parser and semantic analysis
// (@neo4j-cypher/language-support, the engine behind Neo4j's editors and language server).
//
// Usage:
//   node tests/cypher_lint/lint.mjs [input.json]        (reads stdin without a file argument)
//
// Input JSON, either a bare list of statements:
//   [{"name": "build/merge_nodes[User]", "text": "UNWIND $rows ...", "params": ["rows"]}]
// or an object that also carries the database schema and the Cypher versions to check:
//   {"dbSchema": {"labels": [...], "relationshipTypes": [...], "propertyKeys": [...]},
//    "cypherVersions": ["CYPHER 5", "CYPHER 25"],
//    "statements": [{"name": ..., "text": ..., "params": [...]}]}
//
// Output JSON (stdout): one entry per statement, in input order:
//   [{"name": ..., "diagnostics": [{"severity": 1, "message": ..., "line": 1, "col": 1,
//                                   "cypher": ["CYPHER 5"]}]}]
// severity follows the LSP: 1 = error, 2 = warning, 3 = information, 4 = hint. line and col are
// 1-based positions in the text as given. "cypher" lists the language versions that reported it.
// The exit status is 0 whenever linting ran (callers decide what fails); 2 on bad input.
//
// Parameters: each statement's parameters are DECLARED from its "params" list (the `// params:`
// header of its .cypher file), so the analyser's "Parameter $x is not defined." error stays on
// and proves the header lists every parameter the text uses (the statement tests build their
// parameters from that header). A statement without a "params" key gets those errors filtered
// instead (isNotParamError), for ad-hoc use.
//
// Functions and procedures: without a registry the analyser accepts any function name, so
// unless the input gives its own, the registry is Neo4j's built-in functions and procedures as
// shipped with this package (APOC, GDS and other plugins left out: the project requires none),
// which turns a misspelt or plugin-only function into an error.

import { readFileSync } from 'node:fs';
import {
  allCypherVersions,
  isNotParamError,
  lintCypherQuery,
  testData,
} from '@neo4j-cypher/language-support';

function readInput() {
  const path = process.argv[2];
  const raw = path && path !== '-' ? readFileSync(path, 'utf8') : readFileSync(0, 'utf8');
  const parsed = JSON.parse(raw);
  if (Array.isArray(parsed)) return { statements: parsed };
  if (parsed && Array.isArray(parsed.statements)) return parsed;
  throw new Error('input must be a list of {name, text} or {statements: [...], dbSchema: {...}}');
}

const PLUGIN_PREFIXES = ['apoc.', 'gds.', 'genai.', 'bloom.', 'n10s.'];

// Keep only entries that are part of Neo4j itself.
function builtIns(registryByVersion, keep) {
  const out = {};
  for (const [version, registry] of Object.entries(registryByVersion ?? {})) {
    out[version] = Object.fromEntries(
      Object.entries(registry).filter(
        ([name, entry]) =>
          !PLUGIN_PREFIXES.some((p) => name.toLowerCase().startsWith(p)) && keep(entry),
      ),
    );
  }
  return out;
}

function baseSchema(given) {
  const schema = { ...(given ?? {}) };
  if (schema.functions === undefined) {
    schema.functions = builtIns(testData.mockSchema.functions, (fn) => fn.isBuiltIn !== false);
  }
  if (schema.procedures === undefined) {
    schema.procedures = builtIns(testData.mockSchema.procedures, () => true);
  }
  return schema;
}

// The analyser's "<key> is not present in the database" property warning misfires on map
// access inside a pattern's property map: in `MATCH (a:User {user_id: row.src})` it takes `src`
// for a property of the node `a`. Keep such a warning only when the variable before the dot is
// a node or relationship in the symbol table (the check the analyser means to make).
const PROPERTY_WARNING = / is not present in the database\./;

function isMisattributedProperty(d, text, symbolTables) {
  if (d.severity === 1 || !PROPERTY_WARNING.test(d.message)) return false;
  if (/^(Label|Relationship type|Function|Procedure) /.test(d.message)) return false;
  const start = d.offsets?.start;
  if (typeof start !== 'number') return false;
  const match = /([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*$/.exec(text.slice(0, start));
  if (!match) return false;
  const symbol = symbolTables.flat().find((s) => s.variable === match[1]);
  if (!symbol) return false;
  return !symbol.types.every((t) => t === 'Node' || t === 'Relationship');
}

function lintOne(statement, schema, versions) {
  const declared = Array.isArray(statement.params);
  const parameters = Object.fromEntries(
    (statement.params ?? []).map((p) => [p, statement.paramValues?.[p] ?? null]),
  );
  const byKey = new Map();
  for (const version of versions) {
    const dbSchema = { ...schema, parameters, defaultLanguage: version };
    let diagnostics;
    let symbolTables = [];
    try {
      ({ diagnostics, symbolTables } = lintCypherQuery(statement.text, dbSchema, {
        consoleCommandsEnabled: false,
      }));
    } catch (e) {
      diagnostics = [
        {
          severity: 1,
          message: `linter crashed: ${e && e.message ? e.message : e}`,
          range: { start: { line: 0, character: 0 } },
        },
      ];
    }
    for (const d of diagnostics) {
      if (!declared && !isNotParamError(d)) continue;
      if (isMisattributedProperty(d, statement.text, symbolTables)) continue;
      const line = (d.range?.start?.line ?? 0) + 1;
      const col = (d.range?.start?.character ?? 0) + 1;
      const key = `${d.severity}|${line}|${col}|${d.message}`;
      const seen = byKey.get(key);
      if (seen) seen.cypher.push(version);
      else byKey.set(key, { severity: d.severity, message: d.message, line, col, cypher: [version] });
    }
  }
  return { name: statement.name, diagnostics: [...byKey.values()] };
}

function main() {
  let input;
  try {
    input = readInput();
  } catch (e) {
    process.stderr.write(`lint.mjs: bad input: ${e.message}\n`);
    process.exit(2);
  }
  const versions = input.cypherVersions ?? allCypherVersions;
  const unknown = versions.filter((v) => !allCypherVersions.includes(v));
  if (unknown.length) {
    process.stderr.write(
      `lint.mjs: unknown Cypher versions ${unknown.join(', ')} (known: ${allCypherVersions.join(', ')})\n`,
    );
    process.exit(2);
  }
  const schema = baseSchema(input.dbSchema);
  const results = input.statements.map((s) => lintOne(s, schema, versions));
  process.stdout.write(JSON.stringify(results, null, 1) + '\n');
}

main();
