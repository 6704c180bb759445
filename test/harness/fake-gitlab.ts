// GitLab API v4 merge requests and notes for the fake forge (see fake-forge.ts). Authentication is a
// PRIVATE-TOKEN header or `Authorization: Bearer`; the project is its URL-encoded path or numeric id; errors
// follow Grape's shapes: 400 {"error": "x is missing"}, 401/404 {"message": "..."}, 409 {"message": [...]}.
import { json, paginate, type Ctx, type Reply } from './fake-forge.ts';

export interface FakeMr {
  iid: number;
  title: string;
  description: string;
  sourceBranch: string;
  targetBranch: string;
  state: 'opened' | 'closed' | 'merged' | 'locked';
  removeSourceBranch: boolean;
  notes: string[];
}

const STATES = ['opened', 'closed', 'locked', 'merged', 'all'];
const DRAFT = /^\s*(\[draft\]|\(draft\)|draft:|draft\s+-|\[wip\]|wip:)/i;

function authorized(ctx: Ctx): boolean {
  const token = ctx.headers['private-token'];
  const auth = String(ctx.headers.authorization ?? '');
  return token === ctx.opts.token || auth === `Bearer ${ctx.opts.token}`;
}

function present(mr: FakeMr, ctx: Ctx) {
  const project = ctx.opts.gitlab!;
  const draft = DRAFT.test(mr.title);
  return {
    id: 1000 + mr.iid,
    iid: mr.iid,
    project_id: project.id ?? 1,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    source_branch: mr.sourceBranch,
    target_branch: mr.targetBranch,
    draft,
    work_in_progress: draft,
    should_remove_source_branch: mr.removeSourceBranch,
    web_url: `${ctx.baseUrl}/${project.project}/-/merge_requests/${mr.iid}`,
  };
}

const missing = (field: string): Reply => json(400, { error: `${field} is missing` });

export function gitlabRoutes(mrs: FakeMr[]) {
  return async function route(ctx: Ctx): Promise<Reply> {
    if (!authorized(ctx)) return json(401, { message: '401 Unauthorized' });
    // /api/v4/projects/:id/merge_requests[/:iid[/notes]]; the id arrived URL-encoded as one segment.
    const [, , projects, id, resource, iidText, sub, ...rest] = ctx.segments;
    const project = ctx.opts.gitlab;
    if (projects !== 'projects' || !project || (id !== project.project && id !== String(project.id))) return json(404, { message: '404 Project Not Found' });
    if (resource !== 'merge_requests' || rest.length) return json(404, { error: '404 Not Found' });
    if (iidText === undefined) {
      if (ctx.method === 'GET') return list(ctx, mrs);
      if (ctx.method === 'POST') return create(ctx, mrs);
      return json(405, { message: '405 Method Not Allowed' });
    }
    const mr = mrs.find((m) => String(m.iid) === iidText);
    if (!mr) return json(404, { message: '404 Not found' });
    if (sub === 'notes' && ctx.method === 'POST') return note(ctx, mr);
    if (sub !== undefined) return json(404, { error: '404 Not Found' });
    if (ctx.method === 'GET') return json(200, present(mr, ctx));
    if (ctx.method === 'PUT') return edit(ctx, mr);
    return json(405, { message: '405 Method Not Allowed' });
  };
}

function list(ctx: Ctx, mrs: FakeMr[]): Reply {
  const state = ctx.query.get('state') ?? 'all';
  if (!STATES.includes(state)) return json(400, { error: 'state does not have a valid value' });
  const source = ctx.query.get('source_branch');
  const found = mrs.filter((m) => (state === 'all' || m.state === state) && (source === null || m.sourceBranch === source));
  // Newest first, as GitLab orders by created_at desc by default.
  return paginate([...found].reverse().map((m) => present(m, ctx)), ctx, { perPage: 20, gitlabHeaders: true });
}

async function create(ctx: Ctx, mrs: FakeMr[]): Promise<Reply> {
  const b = ctx.body;
  for (const field of ['source_branch', 'target_branch', 'title']) if (typeof b[field] !== 'string' || b[field] === '') return missing(field);
  const [source, target] = [String(b.source_branch), String(b.target_branch)];
  if (!(await ctx.branchExists(source))) return json(409, { message: [`Source branch "${source}" does not exist`] });
  if (!(await ctx.branchExists(target))) return json(409, { message: [`Target branch "${target}" does not exist`] });
  const other = mrs.find((m) => m.state === 'opened' && m.sourceBranch === source && m.targetBranch === target);
  if (other) return json(409, { message: [`Another open merge request already exists for this source branch: !${other.iid}`] });
  const mr: FakeMr = {
    iid: mrs.length + 1,
    title: String(b.title),
    description: typeof b.description === 'string' ? b.description : '',
    sourceBranch: source,
    targetBranch: target,
    state: 'opened',
    removeSourceBranch: b.remove_source_branch === true || b.remove_source_branch === 'true',
    notes: [],
  };
  mrs.push(mr);
  return json(201, present(mr, ctx));
}

function edit(ctx: Ctx, mr: FakeMr): Reply {
  const b = ctx.body;
  const editable = ['title', 'description', 'state_event', 'target_branch', 'remove_source_branch'];
  if (!editable.some((k) => b[k] !== undefined)) return json(400, { error: `${editable.join(', ')} are missing, at least one parameter must be provided` });
  if (b.state_event !== undefined && b.state_event !== 'close' && b.state_event !== 'reopen') return json(400, { error: 'state_event does not have a valid value' });
  if (b.title !== undefined && (typeof b.title !== 'string' || b.title === '')) return json(400, { message: { title: ["can't be blank"] } });
  if (typeof b.title === 'string') mr.title = b.title;
  if (typeof b.description === 'string') mr.description = b.description;
  if (b.state_event === 'close' && mr.state === 'opened') mr.state = 'closed';
  if (b.state_event === 'reopen' && mr.state === 'closed') mr.state = 'opened';
  return json(200, present(mr, ctx));
}

function note(ctx: Ctx, mr: FakeMr): Reply {
  const body = ctx.body.body;
  if (typeof body !== 'string' || body === '') return missing('body');
  mr.notes.push(body);
  return json(201, { id: 5000 + mr.notes.length, body, noteable_type: 'MergeRequest', noteable_iid: mr.iid, system: false });
}
