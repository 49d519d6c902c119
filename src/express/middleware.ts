import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A Connect-style middleware, typed on Node's own request and response so it
 * fits Express 4 and 5 (and Connect) without meshkit depending on Express's
 * types: Express's `Request`/`Response` extend these.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
