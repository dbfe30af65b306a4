/** The built bundles and the tcb CLI on disk. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_FUNCTIONS, TCB_CLI_VERSION } from './facts';
import { err, isRecord, warn, type Issue } from './issues';

export interface BundleInfo {
  bytes: number;
  openapi: string[];
}

export function checkBundles(
  distRoot: string,
  names: string[],
): { info: Record<string, BundleInfo>; issues: Issue[] } {
  const info: Record<string, BundleInfo> = {};
  const issues: Issue[] = [];
  for (const name of names) {
    const dir = path.join(distRoot, name);
    const rel = `${DIST_FUNCTIONS}/${name}`;
    let bytes: number;
    try {
      bytes = fs.statSync(path.join(dir, 'index.js')).size;
    } catch {
      issues.push(err(`${rel}/index.js is missing: run the build`));
      continue;
    }
    if (bytes === 0) issues.push(err(`${rel}/index.js is empty`));
    try {
      const pkg: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const deps = isRecord(pkg) && isRecord(pkg.dependencies) ? pkg.dependencies : {};
      if (typeof deps['wx-server-sdk'] !== 'string') {
        issues.push(
          err(`${rel}/package.json must depend on wx-server-sdk (installed in the cloud)`),
        );
      }
    } catch {
      issues.push(err(`${rel}/package.json is missing or not JSON`));
    }
    let openapi: string[] = [];
    try {
      const cfg: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      const list = isRecord(cfg) && isRecord(cfg.permissions) ? cfg.permissions.openapi : undefined;
      openapi = Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      issues.push(
        err(
          `${rel}/config.json is missing or not JSON (DevTools reads the openapi permission there)`,
        ),
      );
    }
    info[name] = { bytes, openapi };
  }
  return { info, issues };
}

/** Function folders the build bundles: cloudfunctions/<name>/index.ts, `_`-prefixed excluded. */
export function sourceFunctions(root: string): string[] {
  const dir = path.join(root, 'cloudfunctions');
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
      .filter((d) => fs.existsSync(path.join(dir, d.name, 'index.ts')))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

export function tcbEntry(root: string): string {
  return path.join(root, 'node_modules', '@cloudbase', 'cli', 'bin', 'tcb');
}

export function checkCli(root: string): Issue[] {
  try {
    const pkg: unknown = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', '@cloudbase', 'cli', 'package.json'), 'utf8'),
    );
    const version = isRecord(pkg) ? pkg.version : undefined;
    if (!fs.existsSync(tcbEntry(root)))
      return [err('node_modules/@cloudbase/cli/bin/tcb is missing: npm ci')];
    if (version !== TCB_CLI_VERSION) {
      return [
        warn(
          `@cloudbase/cli is ${String(version)}, not ${TCB_CLI_VERSION}: the login and failure checks were read from ${TCB_CLI_VERSION}`,
        ),
      ];
    }
    return [];
  } catch {
    return [err('@cloudbase/cli is not installed: npm ci')];
  }
}
