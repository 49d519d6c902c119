import { finished, type Readable } from 'node:stream';

function ignore(): void {}

/**
 * A web `ReadableStream` fed by a Node body stream, made as
 * `Readable.toWeb` makes one (paused until pulled, a copy of each chunk,
 * cancel destroys the body), except that the error a reader gets is
 * `translate(error)`: `fetch()` rejects a body read with the signal's own
 * reason when the caller aborted, as `fetch` does.
 */
export function toWebBody(body: Readable, translate: (error: Error) => unknown): ReadableStream<Uint8Array> {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let settled = false;
  body.pause();
  const cleanup = finished(body, (error) => {
    cleanup();
    body.on('error', ignore); // a late error from a misbehaving stream must not go unhandled
    if (settled) return;
    settled = true;
    if (error === undefined || error === null) controller?.close();
    else controller?.error(translate(error));
  });
  body.on('data', (chunk: Uint8Array) => {
    if (settled || controller === undefined) return;
    // A copy, as Readable.toWeb makes: a reader may transfer the buffer, which must not be the socket's pool.
    controller.enqueue(new Uint8Array(chunk));
    if ((controller.desiredSize ?? 0) <= 0) body.pause();
  });
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      body.resume();
    },
    cancel(reason) {
      settled = true;
      body.destroy(reason instanceof Error ? reason : undefined);
    },
  }, { highWaterMark: body.readableHighWaterMark });
}
