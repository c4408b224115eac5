import { randomBytes } from 'node:crypto';
import { ApiError, badRequest, forbidden, notFound } from './errors.js';
import { keystoneTime, newTokenId } from './ids.js';
import { objectAt, stringAt, type Json } from './input.js';
import { route, type Reply, type Route, type SimRequest } from './router.js';
import { DEFAULT_DOMAIN } from './seed.js';
import type { Project, SimState, Token, User } from './state.js';
import { serviceCatalog, REGION } from './catalog.js';

/** Keystone v3: password (and token) authentication, token validation, projects, regions. */

const unauthorized = () => new ApiError(401, 'The request you have made requires authentication.');

export const keystoneRoutes: Route[] = [
  route('GET', '/', (req) => ({ status: 300, body: { versions: { values: [versionDoc(req)] } } }), 'none'),
  route('GET', '/v3', (req) => ({ status: 200, body: { version: versionDoc(req) } }), 'none'),
  route('POST', '/v3/auth/tokens', issueToken, 'none'),
  route('GET', '/v3/auth/tokens', validateToken, 'any'),
  route('DELETE', '/v3/auth/tokens', revokeToken, 'any'),
  route('GET', '/v3/auth/catalog', (req) => ({ status: 200, body: { catalog: serviceCatalog(req.state, req.projectId), links: listLinks(req, '/v3/auth/catalog') } })),
  route('GET', '/v3/auth/projects', (req) => projectList(req, '/v3/auth/projects', userProjects(req.state, req.token.userId)), 'any'),
  route('GET', '/v3/users/:userId/projects', (req) => projectList(req, req.path, userProjects(req.state, req.params.userId)), 'any'),
  route('GET', '/v3/projects', listAllProjects, 'any'),
  route('GET', '/v3/projects/:id', showProject, 'any'),
  route('GET', '/v3/regions', (req) => ({ status: 200, body: { regions: [regionView(req)], links: listLinks(req, '/v3/regions') } }), 'any'),
  route('GET', '/v3/regions/:id', (req) => {
    if (req.params.id !== REGION) throw notFound(`Could not find region: ${req.params.id}.`);
    return { status: 200, body: { region: regionView(req) } };
  }, 'any'),
];

function versionDoc(req: SimRequest) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${req.state.options.publicUrl}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

function issueToken(req: SimRequest): Reply {
  const auth = objectAt(req.body, 'auth');
  const identity = objectAt(auth, 'identity');
  if (!identity) throw badRequest("Invalid input for field 'auth': 'identity' is a required property");
  const methods = identity.methods;
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
    throw badRequest("Invalid input for field 'identity': 'methods' is a required property");
  }
  const { state } = req;
  let user: User;
  let fromToken: Token | undefined;
  if (methods.includes('password')) {
    user = passwordUser(state, objectAt(identity, 'password'));
  } else if (methods.includes('token')) {
    fromToken = liveToken(state, stringAt(objectAt(identity, 'token'), 'id'));
    if (!fromToken) throw unauthorized();
    user = state.users.get(fromToken.userId)!;
  } else {
    throw unauthorized();
  }
  const scope = auth?.scope;
  const project = scope === undefined || scope === 'unscoped' ? undefined : scopedProject(state, scope);
  const now = new Date();
  const token: Token = {
    id: newTokenId(),
    userId: user.id,
    projectId: project?.id,
    roles: project ? user.roles : [],
    methods: methods as string[],
    auditId: randomBytes(16).toString('base64url').slice(0, 22),
    issuedAt: now,
    // a token made from another never outlives it
    expiresAt: fromToken?.expiresAt ?? new Date(now.getTime() + state.options.tokenTtlSeconds * 1000),
  };
  state.tokens.set(token.id, token);
  return { status: 201, body: tokenBody(state, token), headers: { 'X-Subject-Token': token.id } };
}

/** The user a password identifies (by id, or by name within a domain given by id or name), or 401. */
function passwordUser(state: SimState, password: Json | undefined): User {
  const given = objectAt(password, 'user');
  if (!given) throw badRequest("Invalid input for field 'password': 'user' is a required property");
  const id = stringAt(given, 'id');
  const name = stringAt(given, 'name');
  if (!id && !name) throw badRequest('Expecting to find id or name in user - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  if (!id && !objectAt(given, 'domain')) throw badRequest('Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  const user = [...state.users.values()].find((u) => (id ? u.id === id : u.name === name && domainMatches(objectAt(given, 'domain'))));
  if (!user || stringAt(given, 'password') !== user.password) throw unauthorized();
  return user;
}

function scopedProject(state: SimState, scope: unknown): Project {
  const given = objectAt(scope, 'project');
  if (!given) throw unauthorized(); // domain and system scopes: this user has no roles there
  const id = stringAt(given, 'id');
  if (!id && !objectAt(given, 'domain')) throw badRequest('Expecting to find domain in project. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  const project = [...state.projects.values()].find((p) => (id ? p.id === id : p.name === stringAt(given, 'name') && domainMatches(objectAt(given, 'domain'))));
  if (!project) throw unauthorized();
  return project;
}

const domainMatches = (d: Json | undefined) => !!d && (d.id === DEFAULT_DOMAIN.id || d.name === DEFAULT_DOMAIN.name);

/** A token that exists and has not expired. */
export function liveToken(state: SimState, id: string | undefined): Token | undefined {
  const token = id ? state.tokens.get(id) : undefined;
  if (!token) return undefined;
  if (token.expiresAt.getTime() <= Date.now()) {
    state.tokens.delete(token.id);
    return undefined;
  }
  return token;
}

function tokenBody(state: SimState, token: Token) {
  const user = state.users.get(token.userId)!;
  const project = token.projectId ? state.projects.get(token.projectId) : undefined;
  return {
    token: {
      methods: token.methods,
      user: { domain: DEFAULT_DOMAIN, id: user.id, name: user.name, password_expires_at: null },
      audit_ids: [token.auditId],
      expires_at: keystoneTime(token.expiresAt),
      issued_at: keystoneTime(token.issuedAt),
      ...(project && {
        project: { domain: DEFAULT_DOMAIN, id: project.id, name: project.name },
        is_domain: false,
        roles: token.roles,
        catalog: serviceCatalog(state, project.id),
      }),
    },
  };
}

function subjectToken(req: SimRequest): Token {
  const id = req.headers['x-subject-token'];
  const token = liveToken(req.state, typeof id === 'string' ? id : undefined);
  if (!token) throw notFound(`Could not find token: ${typeof id === 'string' ? id : ''}.`);
  return token;
}

function validateToken(req: SimRequest): Reply {
  const token = subjectToken(req);
  return { status: 200, body: req.method === 'HEAD' ? undefined : tokenBody(req.state, token), headers: { 'X-Subject-Token': token.id } };
}

function revokeToken(req: SimRequest): Reply {
  req.state.tokens.delete(subjectToken(req).id);
  return { status: 204 };
}

function userProjects(state: SimState, userId: string): Project[] {
  const user = state.users.get(userId);
  return user ? [...state.projects.values()].filter((p) => p.id === user.defaultProjectId) : [];
}

function listAllProjects(req: SimRequest): Reply {
  if (!req.token.roles.some((r) => r.name === 'admin')) throw forbidden('You are not authorized to perform the requested action: identity:list_projects.');
  const name = req.query.get('name');
  return projectList(req, '/v3/projects', [...req.state.projects.values()].filter((p) => name === null || p.name === name));
}

function showProject(req: SimRequest): Reply {
  const project = req.state.projects.get(req.params.id);
  if (!project) throw notFound(`Could not find project: ${req.params.id}.`);
  return { status: 200, body: { project: projectView(req, project) } };
}

function projectList(req: SimRequest, path: string, projects: Project[]): Reply {
  return { status: 200, body: { projects: projects.map((p) => projectView(req, p)), links: listLinks(req, path) } };
}

function projectView(req: SimRequest, p: Project) {
  return {
    id: p.id,
    name: p.name,
    domain_id: p.domainId,
    description: p.description,
    enabled: true,
    parent_id: p.domainId,
    is_domain: false,
    tags: [],
    options: {},
    links: { self: `${req.state.options.publicUrl}/v3/projects/${p.id}` },
  };
}

const regionView = (req: SimRequest) => ({ id: REGION, description: '', parent_region_id: null, links: { self: `${req.state.options.publicUrl}/v3/regions/${REGION}` } });

const listLinks = (req: SimRequest, path: string) => ({ self: `${req.state.options.publicUrl}${path}`, previous: null, next: null });
