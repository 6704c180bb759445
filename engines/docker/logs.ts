/**
 * A followed log stream of the Engine API (a container's, or a Swarm service's through a manager): multiplexed
 * frames when there is no TTY, split by dockerode's modem, handed on as text until the stream ends or `signal`
 * aborts (then the stream is closed, so the engine stops sending).
 */
import { Writable } from 'node:stream';
import type Docker from 'dockerode';

export async function followDemuxed(docker: Docker, stream: NodeJS.ReadableStream & { destroy(): void }, signal: AbortSignal, onText: (text: string) => void): Promise<void> {
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => { onText(chunk.toString('utf8')); done(); } });
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve) => {
    const end = () => { stream.destroy(); resolve(); };
    if (signal.aborted) return end();
    signal.addEventListener('abort', end, { once: true });
    stream.once('end', resolve).once('error', resolve);
  });
}
