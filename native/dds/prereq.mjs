// The DDS addon needs Cyclone DDS 0.10.x development files (Debian: cyclonedds-dev).
import { existsSync, readFileSync } from 'node:fs';

export default function prereq() {
  const header = '/usr/include/dds/dds.h';
  const version = '/usr/include/dds/version.h';
  if (!existsSync(header)) return 'Cyclone DDS headers missing (/usr/include/dds/dds.h); install: apt-get install cyclonedds-dev cyclonedds-tools';
  const v = existsSync(version) ? /DDS_VERSION\s+"([^"]+)"/.exec(readFileSync(version, 'utf8'))?.[1] : undefined;
  if (!v || !v.startsWith('0.10.')) return `Cyclone DDS 0.10.x required, found ${v ?? 'an unknown version'}`;
  const libs = ['/usr/lib/x86_64-linux-gnu/libddsc.so', '/usr/lib/aarch64-linux-gnu/libddsc.so', '/usr/lib/libddsc.so', '/usr/local/lib/libddsc.so'];
  if (!libs.some((l) => existsSync(l))) return 'libddsc.so missing; install: apt-get install cyclonedds-dev';
  return null;
}
