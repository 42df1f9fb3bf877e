import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * A fetch for long-lived MCP client transports (one connection carrying many calls).
 *
 * The SDK's Streamable HTTP client transport gives every request the same AbortSignal, its
 * own, aborted when the transport closes. undici hangs an abort listener on that signal for
 * each Request and removes it only when the Request is garbage-collected, so a busy transport
 * gathers thousands of listeners (MaxListenersExceededWarning past 1,500 under the
 * 100-negotiation load). Here each request gets a signal of its own instead, and the
 * transport's signal carries a single listener that aborts whatever is still in flight, so
 * closing the transport still cancels its requests and their response bodies.
 */
export function transportFetch(): FetchLike {
  const inFlight = new WeakMap<AbortSignal, Set<AbortController>>();
  const track = (shared: AbortSignal): Set<AbortController> => {
    let set = inFlight.get(shared);
    if (!set) {
      const live = new Set<AbortController>();
      shared.addEventListener('abort', () => live.forEach((c) => c.abort(shared.reason)), { once: true });
      inFlight.set(shared, (set = live));
    }
    return set;
  };

  return async (url, init) => {
    const shared = init?.signal;
    if (!shared) return fetch(url, init);
    shared.throwIfAborted();
    const own = new AbortController();
    const live = track(shared);
    live.add(own);
    const done = () => live.delete(own);
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: own.signal });
    } catch (err) {
      done();
      throw err;
    }
    if (!response.body) {
      done();
      return response;
    }
    // The request stays abortable until its body is read to the end, fails or is cancelled.
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const chunk = await reader.read();
          if (chunk.done) {
            done();
            controller.close();
          } else controller.enqueue(chunk.value);
        } catch (err) {
          done();
          controller.error(err);
        }
      },
      cancel(reason) {
        done();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
