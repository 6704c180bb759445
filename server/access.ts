/**
 * Who may do what over HTTP, in one place: the console's signed-in people (a session cookie) and machine
 * clients of `/api` (a bearer token) are both turned into a Principal here, and every guarded route asks
 * `access.guard(action)`. Without any way to sign in configured, `/api` stays open for reading, as it was.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

export const ROLES = ['viewer', 'proposer', 'deployer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** read: see everything; propose: open a merge request; deploy: commit to the deployed branch, roll back. */
export type Action = 'read' | 'propose' | 'deploy' | 'admin';

const ALLOWED: Record<Role, ReadonlySet<Action>> = {
  viewer: new Set(['read']),
  proposer: new Set(['read', 'propose']),
  deployer: new Set(['read', 'propose', 'deploy']),
  admin: new Set(['read', 'propose', 'deploy', 'admin']),
};

export interface Principal {
  /** The person's (or token's) name: the author of what they commit. */
  name: string;
  email: string;
  role: Role;
  /** How they proved it: a session needs a CSRF token on writes, a bearer token does not (no ambient cookie). */
  via: 'session' | 'token';
}

export interface ApiToken {
  token: string;
  name: string;
  role: Role;
}

export function may(role: Role, action: Action): boolean {
  return ALLOWED[role].has(action);
}

/** What a write needs of the person: commit directly when allowed, else propose, else nothing. */
export function writeMode(role: Role): 'commit' | 'propose' | undefined {
  return may(role, 'deploy') ? 'commit' : may(role, 'propose') ? 'propose' : undefined;
}

export interface AccessOptions {
  /** Sign-in is configured (a users file): every guarded route then needs a principal. */
  signIn: boolean;
  tokens?: ApiToken[];
  /** The session's user, when the session plugin is registered. */
  sessionUser?: (req: FastifyRequest) => Omit<Principal, 'via'> | undefined;
  /** Checks the CSRF token of a session write; throws (with statusCode 403) when it is missing or wrong. */
  checkCsrf?: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const ANONYMOUS: Principal = { name: 'anonymous', email: 'berth@localhost', role: 'viewer', via: 'token' };

export class Access {
  constructor(private readonly opts: AccessOptions) {}

  /** True when requests must carry a principal (a users file or an API token is configured). */
  get enforced(): boolean {
    return this.opts.signIn || (this.opts.tokens?.length ?? 0) > 0;
  }

  principal(req: FastifyRequest): Principal | undefined {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) {
      const t = this.opts.tokens?.find((x) => sameSecret(x.token, bearer));
      return t && { name: t.name, email: `${t.name}@berth.invalid`, role: t.role, via: 'token' };
    }
    const user = this.opts.sessionUser?.(req);
    return user && { ...user, via: 'session' };
  }

  /** A preHandler: 401 without a principal, 403 when its role may not `action`, 403 for a session write without CSRF. */
  guard(action: Action): preHandlerAsyncHookHandler {
    return async (req, reply) => {
      if (!this.enforced) {
        if (action !== 'read') return reply.code(403).send({ code: 'FORBIDDEN', message: 'writes need sign-in: start berth serve with --users FILE' });
        req.principal = ANONYMOUS;
        return;
      }
      const p = this.principal(req);
      if (!p) return reply.code(401).send({ code: 'UNAUTHENTICATED', message: 'sign in first (POST /login), or send Authorization: Bearer <token>' });
      if (!may(p.role, action)) {
        return reply.code(403).send({ code: 'FORBIDDEN', message: `${p.name} has the role ${p.role}, which may not ${action}; ask an admin for a role that may` });
      }
      if (action !== 'read' && p.via === 'session' && this.opts.checkCsrf) await this.opts.checkCsrf(req, reply);
      if (reply.sent) return;
      req.principal = p;
    };
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
