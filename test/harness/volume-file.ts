// A file in a named volume, read by a throwaway container on the engine that has the volume: the bytes as hex,
// so a test compares every byte (a snapshot restored must give back exactly what was there).
import type Docker from 'dockerode';
import { BUSYBOX_IMAGE } from './images.ts';

export async function volumeFileHex(docker: Docker, volume: string, file: string): Promise<string> {
  const c = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['cat', `/data/${file}`], HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/data', ReadOnly: true }] } });
  try {
    await c.start();
    await c.wait();
    const raw = await c.logs({ stdout: true });
    const out: Buffer[] = [];
    // The engine frames a log stream: 8 bytes of header (stream, length) before each chunk.
    for (let i = 0; i + 8 <= raw.length; i += 8 + raw.readUInt32BE(i + 4)) out.push(raw.subarray(i + 8, i + 8 + raw.readUInt32BE(i + 4)));
    return Buffer.concat(out).toString('hex');
  } finally {
    await c.remove({ force: true });
  }
}
