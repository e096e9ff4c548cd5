// The contract over a WebSocket: `{type:'call'}` in, `{type:'result'}` out, events pushed to
// every client. Whatever arrives — not JSON, too large, unknown method, wrong types — gets an
// error result; nothing a client sends can throw out of here.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Studio } from '../core/studio.js';
import { methodName, toWireError, type ServerMessage, type WireError } from '../shared/contract.js';

/** Calls larger than this get an error result (a webcam frame is ~16 MB of base64 at most). */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
/** ws itself closes the socket (1009) past this, so nobody can make the host buffer gigabytes. */
const HARD_FRAME_LIMIT = 2 * MAX_MESSAGE_BYTES;

export class WsTransport {
  private wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_LIMIT });
  private unsubscribe: () => void;

  constructor(private studio: Studio) {
    this.unsubscribe = studio.bus.subscribe((name, payload) => {
      const text = JSON.stringify({ type: 'event', name, payload } satisfies ServerMessage);
      for (const client of this.wss.clients) if (client.readyState === client.OPEN) client.send(text);
    });
    this.wss.on('connection', (ws) => this.attach(ws));
  }

  /** The caller has already checked the token and Origin. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  close(): void {
    this.unsubscribe();
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private attach(ws: WebSocket): void {
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      // handle() answers every message itself; the catch is the last line of defence, so that
      // nothing a client sends can become an unhandled rejection (which stops the host).
      this.handle(data, isBinary)
        .catch((err: unknown): ServerMessage => {
          console.error('[studio] message handling failed:', err);
          return fail(-1, { code: 'internal', message: 'The message could not be handled.' });
        })
        .then((reply) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
        })
        .catch((err: unknown) => console.error('[studio] reply failed:', err));
    });
  }

  private async handle(data: RawData, isBinary: boolean): Promise<ServerMessage> {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (buf.length > MAX_MESSAGE_BYTES) {
      return fail(sniffId(buf.subarray(0, 200).toString('utf8')), {
        code: 'invalid',
        message: `Message too large (the limit is ${MAX_MESSAGE_BYTES / 1024 / 1024} MB).`,
      });
    }
    if (isBinary) return fail(-1, { code: 'invalid', message: 'Binary messages are not part of the protocol; send JSON text.' });
    const text = buf.toString('utf8');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return fail(sniffId(text), { code: 'invalid', message: 'Not JSON.' });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
      return fail(-1, { code: 'invalid', message: 'A message is a JSON object.' });
    const { type, id, method, args } = msg as Record<string, unknown>;
    const callId = typeof id === 'number' && Number.isSafeInteger(id) ? id : -1;
    if (type !== 'call') return fail(callId, { code: 'invalid', message: 'Only {type:"call"} messages are accepted.' });
    if (callId < 0) return fail(-1, { code: 'invalid', message: 'A call needs a non-negative integer id.' });
    try {
      const value = await this.studio.invoke(method, args);
      return { type: 'result', id: callId, ok: true, value };
    } catch (err) {
      const wire = toWireError(err);
      // A StudioError is the user's business; anything else is ours, so keep its stack.
      if (wire.code === 'internal') console.error(`[studio] ${methodName(method)} failed:`, err);
      return fail(callId, wire);
    }
  }
}

function fail(id: number, error: WireError): ServerMessage {
  return { type: 'result', id, ok: false, error };
}

/** For a message we will not parse, the call id if it is near the start, so the client can fail that call. */
function sniffId(text: string): number {
  const m = /"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(text.slice(0, 200));
  return m ? Number(m[1]) : -1;
}
