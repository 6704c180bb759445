// A small catalog on disk for the upgrade tests: template `web` with 1.0.0 and 1.1.0 (1.2.0 on demand), and
// template `api` whose 2.0.0 asks a new required question without a default. Also in-memory templates for the
// pure version-choice tests.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Question, Template, TemplateVersion } from '../../catalog/types.ts';

export const SECRET = 'pa55-w0rd:VERY-secret';

const WEB_COMPOSE = (image: string) => `services:
  web:
    image: ${image}
    environment:
      TITLE: {{title}}
      DB_PASSWORD: {{db_password}}
    ports:
      - "{{port}}:80"
`;

const WEB_10 = `version: 1.0.0
questions:
  - { variable: title, label: Title, type: string, default: Hello }
  - { variable: port, label: Port, type: int, required: true, default: 18080 }
  - { variable: db_password, label: Database password, type: password, required: true }
  - { variable: old_opt, label: Old option, type: string }
`;

const WEB_11 = `version: 1.1.0
questions:
  - { variable: title, label: Title, type: string, default: Hello }
  - { variable: port, label: Port, type: int, required: true, default: 18080 }
  - { variable: db_password, label: Database password, type: password, required: true }
  - { variable: colour, label: Colour, type: enum, options: [blue, green], default: blue }
`;

const WEB_12 = WEB_11.replace('version: 1.1.0', 'version: 1.2.0').concat('  - { variable: motd, label: Message of the day, type: string, default: hi }\n');

const API_1 = 'version: 1.0.0\nquestions:\n  - { variable: name, label: Name, type: string, default: api }\n';
const API_2 = `version: 2.0.0
questions:
  - { variable: name, label: Name, type: string, default: api }
  - { variable: admin_email, label: Admin e-mail, description: Where alerts go., type: string, required: true }
`;
const API_COMPOSE = 'services:\n  api:\n    image: berth-test/busybox:1\n    environment:\n      NAME: {{name}}\n';

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
}

export function webVersion(v: '1.2.0'): Record<string, string> {
  return {
    [`templates/web/${v}/berth.yml`]: WEB_12,
    [`templates/web/${v}/docker-compose.yml.hbs`]: WEB_COMPOSE('berth-test/web:2').replace('TITLE: {{title}}', 'TITLE: {{title}}\n      MOTD: {{motd}}'),
    [`templates/web/${v}/README.md`]: '## 1.2.0\n\nAdds a message of the day.\n',
  };
}

/** The catalog folder (holding templates/). */
export function writeCatalog(root = mkdtempSync(path.join(tmpdir(), 'berth-upgrades-catalog-'))): string {
  writeFiles(root, {
    'templates/web/config.yml': 'name: web\ndescription: A web server.\n',
    'templates/web/1.0.0/berth.yml': WEB_10,
    'templates/web/1.0.0/docker-compose.yml.hbs': WEB_COMPOSE('berth-test/web:1'),
    'templates/web/1.1.0/berth.yml': WEB_11,
    'templates/web/1.1.0/docker-compose.yml.hbs': WEB_COMPOSE('berth-test/web:2'),
    'templates/web/1.1.0/README.md': '## What is new\n\nThe web image 2, and a colour.\n',
    'templates/api/config.yml': 'name: api\ndescription: An API.\n',
    'templates/api/1.0.0/berth.yml': API_1,
    'templates/api/1.0.0/docker-compose.yml.hbs': API_COMPOSE,
    'templates/api/2.0.0/berth.yml': API_2,
    'templates/api/2.0.0/docker-compose.yml.hbs': API_COMPOSE,
  });
  return root;
}

export const WEB_STACK = `# The shop's web front.
template: web
version: 1.0.0   # pinned
answers:
  title: Shop
  db_password: "${SECRET}"
  old_opt: keep-me
`;

export const API_STACK = 'template: api\nversion: 1.0.0\nanswers:\n  name: orders\n';

// ---------- in-memory templates ----------

export function q(variable: string, extra: Partial<Question> = {}): Question {
  return { variable, label: variable, type: 'string', required: false, ...extra };
}

export function v(folder: string, extra: Partial<TemplateVersion> = {}): TemplateVersion {
  return { folder, version: folder, questions: [], compose: { file: `templates/t/${folder}/docker-compose.yml`, kind: 'interpolate', source: 'services: {}\n' }, ...extra };
}

export function template(versions: TemplateVersion[], defaultVersion?: string): Template {
  return { name: 't', dir: 'templates/t', config: { name: 't', description: 't', ...(defaultVersion ? { version: defaultVersion } : {}) }, versions };
}
