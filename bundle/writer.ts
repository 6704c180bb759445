/** Writing a bundle: parts appended to the archive, each hashed as it streams, then the manifest and signature. */
import { createHash } from 'node:crypto';
import { TarFileWriter } from './tar-file.ts';
import type { BundlePart } from './manifest.ts';

export class BundleWriter {
  readonly parts: BundlePart[] = [];
  private readonly names = new Set<string>();
  /** Bytes of parts written so far (what the file will weigh, near enough). */
  written = 0;

  private constructor(readonly tar: TarFileWriter) {}

  static async create(file: string): Promise<BundleWriter> {
    return new BundleWriter(await TarFileWriter.create(file));
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /**
   * Appends a part; `name` may be decided once the data is read (see TarFileWriter.add). When `keep` (called
   * with the final name) says no, the part is taken back out and undefined returned.
   */
  async add(name: string | (() => string), data: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer>, keep?: (name: string) => boolean): Promise<BundlePart | undefined> {
    const start = this.tar.position;
    const hash = createHash('sha256');
    const hashed = async function* () {
      for await (const chunk of data) {
        hash.update(chunk);
        yield chunk;
      }
    };
    const size = await this.tar.add(name, hashed());
    const final = typeof name === 'string' ? name : name();
    if ((keep && !keep(final)) || this.names.has(final)) {
      await this.tar.rollback(start);
      return undefined;
    }
    const part = { name: final, sha256: hash.digest('hex'), size };
    this.parts.push(part);
    this.names.add(final);
    this.written += size;
    return part;
  }

  /** Manifest and signature go last, unlisted in the manifest (they are what the list is checked against). */
  async finish(manifest: Buffer, signature?: Buffer): Promise<void> {
    await this.tar.addBuffer('berth-bundle.json', manifest);
    if (signature) await this.tar.addBuffer('berth-bundle.sig', signature);
    await this.tar.finish();
  }

  abort(): Promise<void> {
    return this.tar.abort();
  }
}
