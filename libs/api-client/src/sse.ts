/** One server-sent event: its last event id (the latest `id:` of the stream so far, absent before any), `event:` (default `message`) and `data:` lines joined by newlines. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Parses a text/event-stream body into events, as the HTML standard says: lines end with \n, \r\n
 * or \r; a blank line dispatches the event; `:` lines are comments (keep-alives); an event with no
 * data is not dispatched. Pure apart from reading `body`.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  function* line(text: string): Generator<SseEvent> {
    if (text === '') {
      if (data.length > 0) yield { ...(id !== undefined ? { id } : {}), event: event || 'message', data: data.join('\n') };
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }
  for await (const chunk of body) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffered);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === buffered.length - 1)) break;
      const text = buffered.slice(0, match.index);
      buffered = buffered.slice(match.index + match[0].length);
      yield* line(text);
    }
  }
}
