import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Dashboard } from './app/dashboard';
import { resolveApiUrl } from './config';
import './styles.css';

// Browsers without async iteration of fetch bodies (used to follow the live log): read them with a reader.
const streamProto = ReadableStream.prototype as unknown as { [Symbol.asyncIterator]?: (this: ReadableStream<unknown>) => AsyncGenerator<unknown> };
if (!streamProto[Symbol.asyncIterator]) {
  streamProto[Symbol.asyncIterator] = async function* (this: ReadableStream<unknown>) {
    const reader = this.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  };
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Dashboard apiUrl={resolveApiUrl()} />
  </StrictMode>,
);
