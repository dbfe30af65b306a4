/**
 * An axios adapter over Node's own `http`/`https`, for the Coze client.
 *
 * Axios' Node adapter does the same but brings redirects, proxies, multipart and decompression
 * (follow-redirects, proxy-from-env, form-data with mime-db: over 200 KB minified) into a function
 * bundle that is read on every cold start. Its fetch adapter fits the bundle but costs 0.9–1.8 ms
 * of CPU per request on undici's web streams, against 0.4–0.7 ms here (a small JSON POST, client
 * and a local server together, measured on the 2-core machine of bench/RESULTS.md). The
 * Coze client needs none of what this leaves out: a JSON body in, text out, no redirects, no proxy.
 *
 * It keeps axios' contract: the config axios merged (URL, method, headers, transformed body,
 * `timeout`, `signal`, `maxContentLength`, `responseType`, `validateStatus`) in, an
 * `AxiosResponse` or an `AxiosError` with axios' codes out (ECONNABORTED/ETIMEDOUT on a timeout,
 * ERR_CANCELED on an abort, ERR_BAD_RESPONSE on an oversized answer, the system's code on a
 * network error).
 */
import http from 'node:http';
import https from 'node:https';
import axios, {
  AxiosError,
  AxiosHeaders,
  CanceledError,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';

/**
 * Kept-alive sockets, dropped after 4 s idle: what fetch (undici) did before this adapter, so a
 * warm instance reuses its connection to Coze and a frozen one rarely wakes to a closed socket.
 * A request on a socket the far side closed fails as a network error, which the client retries.
 */
const KEEP_ALIVE_IDLE_MS = 4000;
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: KEEP_ALIVE_IDLE_MS }),
  'https:': new https.Agent({ keepAlive: true, timeout: KEEP_ALIVE_IDLE_MS }),
};

export function nodeHttpAdapter(config: InternalAxiosRequestConfig): Promise<AxiosResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(axios.getUri(config));
    } catch {
      reject(new AxiosError('Invalid URL', AxiosError.ERR_INVALID_URL, config));
      return;
    }
    const protocol = url.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      reject(
        new AxiosError(`Unsupported protocol ${url.protocol}`, AxiosError.ERR_BAD_REQUEST, config),
      );
      return;
    }
    const data: unknown = config.data;
    if (data !== undefined && data !== null && typeof data !== 'string' && !Buffer.isBuffer(data)) {
      reject(new AxiosError('Unsupported request body', AxiosError.ERR_BAD_REQUEST, config));
      return;
    }
    const body = data ?? undefined;
    const headers = AxiosHeaders.from(config.headers).toJSON(true) as Record<string, string>;
    if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));

    const signal = config.signal as AbortSignal | undefined;
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (err: Error) => {
      done(() => reject(err));
      req.destroy();
    };
    const onAbort = () => fail(new CanceledError(undefined, config, req));

    const req = (protocol === 'https:' ? https : http).request(
      url,
      { method: (config.method ?? 'get').toUpperCase(), headers, agent: agents[protocol] },
      (res) => {
        const max = config.maxContentLength ?? -1;
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (max > -1 && length > max) {
            fail(
              new AxiosError(
                `maxContentLength size of ${max} exceeded`,
                AxiosError.ERR_BAD_RESPONSE,
                config,
                req,
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) =>
          fail(AxiosError.from(err, AxiosError.ERR_BAD_RESPONSE, config, req)),
        );
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const response: AxiosResponse = {
            data: config.responseType === 'arraybuffer' ? raw : raw.toString('utf8'),
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: new AxiosHeaders(res.headers as Record<string, string>),
            config,
            request: req,
          };
          const validate = config.validateStatus;
          if (!validate || validate(response.status)) {
            done(() => resolve(response));
            return;
          }
          const code =
            response.status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST;
          done(() =>
            reject(
              new AxiosError(
                `Request failed with status code ${response.status}`,
                code,
                config,
                req,
                response,
              ),
            ),
          );
        });
      },
    );
    req.on('error', (err: Error & { code?: string }) =>
      fail(AxiosError.from(err, err.code, config, req)),
    );
    // As axios' Node adapter: `timeout` bounds the socket's silence; the caller's signal bounds all.
    if (config.timeout && config.timeout > 0) {
      req.setTimeout(config.timeout, () => {
        const clarify = config.transitional?.clarifyTimeoutError;
        fail(
          new AxiosError(
            config.timeoutErrorMessage ?? `timeout of ${config.timeout}ms exceeded`,
            clarify ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED,
            config,
            req,
          ),
        );
      });
    }
    if (signal) {
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort);
    }
    req.end(body);
  });
}
