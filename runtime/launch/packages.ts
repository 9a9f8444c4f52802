// Finding ROS2 packages as ament does: `share/<pkg>` under each AMENT_PREFIX_PATH entry and
// colcon install trees (merged `install/share/<pkg>` or isolated `install/<pkg>/share/<pkg>`).
// The package `xauto` itself is always this package's root.
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../util/paths.js';

export interface PackageLocation {
  prefix: string;
  share: string;
}

/** Prefixes searched for packages, in order (what a sourced ROS2 setup puts in the environment). */
export function searchedPrefixes(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const v of [env.AMENT_PREFIX_PATH, env.COLCON_PREFIX_PATH]) {
    for (const p of (v ?? '').split(delimiter)) if (p && !out.includes(p)) out.push(p);
  }
  return out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Where package `pkg` is installed, or undefined. */
export function findPackage(pkg: string, env: NodeJS.ProcessEnv): PackageLocation | undefined {
  if (pkg === 'xauto') {
    const root = packageRoot();
    return { prefix: root, share: root };
  }
  for (const prefix of searchedPrefixes(env)) {
    // Merged layout / ament prefix: <prefix>/share/<pkg> (the ament index marks it installed).
    const marker = join(prefix, 'share', 'ament_index', 'resource_index', 'packages', pkg);
    const share = join(prefix, 'share', pkg);
    if (existsSync(marker) || isDir(share)) return { prefix, share };
    // Isolated colcon layout: <install>/<pkg>/share/<pkg>.
    const iso = join(prefix, pkg);
    if (isDir(join(iso, 'share', pkg))) return { prefix: iso, share: join(iso, 'share', pkg) };
  }
  return undefined;
}

/** A one-line explanation of where a package was looked for. */
export function notFoundMessage(pkg: string, env: NodeJS.ProcessEnv): string {
  const prefixes = searchedPrefixes(env);
  const where = prefixes.length
    ? `searched AMENT_PREFIX_PATH/COLCON_PREFIX_PATH: ${prefixes.join(', ')}`
    : 'AMENT_PREFIX_PATH and COLCON_PREFIX_PATH are empty (source a ROS2 setup or your workspace install/setup.bash)';
  return `package '${pkg}' not found; ${where}`;
}
