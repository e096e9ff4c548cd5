// What a person sees when they open the web host without its private link: a bookmark from an
// earlier start, a link copied without its token, or a tab left open across a restart.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from './headers.js';

const WORDS = {
  title: 'This link no longer opens Transfer Studio',
  body: 'Transfer Studio makes a new private link each time it starts, so links from an earlier start (or bookmarks) stop working.',
  next: 'Open the newest link it showed when it started — in the window where you started it — or start it again to get one.',
};

/** The plain words, for anything that is not a page (images, uploads, downloads). */
const STALE_LINK_TEXT = `${WORDS.title}. ${WORDS.body} ${WORDS.next}`;

function wantsPage(req: IncomingMessage): boolean {
  return (req.method ?? 'GET') === 'GET' && /text\/html/.test(req.headers.accept ?? '');
}

export function sendStaleLink(req: IncomingMessage, res: ServerResponse): void {
  if (!wantsPage(req)) return sendText(res, 403, STALE_LINK_TEXT);
  res.statusCode = 403;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Transfer Studio: open the newest link</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1f2430; background: #f5f6fa; margin: 0; display: grid; place-items: center; min-height: 100vh; }
  main { background: #fff; border: 1px solid #e1e4ec; border-radius: 12px; padding: 28px 32px; max-width: 520px; box-shadow: 0 2px 10px rgba(0,0,0,.05); }
  h1 { font-size: 20px; margin: 0 0 12px; }
  p { margin: 0 0 10px; color: #4a5163; }
</style></head>
<body><main><h1>${WORDS.title}</h1><p>${WORDS.body}</p><p>${WORDS.next}</p></main></body></html>
`);
}
