import { createWriteStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createStreamRedactor } from '../../core/secrets/redact-stream.js';

/**
 * A job log file that never receives a secret: everything written (the job's stdout and stderr,
 * the runner's own lines) passes one stream redactor first, so a secret split between two writes
 * of a process is caught too. Bytes are decoded as UTF-8 across chunk boundaries before matching.
 */
export class MaskedLog extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private readonly redactor;
  private readonly file;

  constructor(path: string, secrets: readonly string[]) {
    super();
    this.redactor = createStreamRedactor(secrets);
    this.file = createWriteStream(path, { flags: 'a' });
    this.pipe(this.file);
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    done(null, this.redactor.push(text));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.redactor.push(this.decoder.end()) + this.redactor.end());
  }

  /** Ends the log and resolves once the file holds everything. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.file.once('finish', resolve);
      this.file.once('error', reject);
      this.end();
    });
  }
}
