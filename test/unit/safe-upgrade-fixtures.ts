// A template written for safe upgrades, three versions of it: 1.0.0 as first shipped; 2.0.0 renames a question,
// adds a generated password, joins two answers into one with a template and drops one; 3.0.0 renames an enum's
// values and makes the database user immutable. The service is a stand-in database: busybox httpd asking for the
// user and password by HTTP Basic auth, so a test can prove the password in the stack file is the one it runs with.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const V1 = `version: 1.0.0
description: First release.
questions:
  - { variable: db_user, label: Database user, type: string, default: app, pattern: "[a-z][a-z0-9_]*", pattern_message: "must start with a letter and hold only a-z, 0-9 and _" }
  - { variable: edition, label: Edition, type: enum, options: [community, enterprise], default: community }
  - { variable: address, label: Address, type: string, default: "localhost:8080" }
  - { variable: port, label: Host port, type: int, required: true, default: 18080 }
  - { variable: legacy_mode, label: Legacy mode, type: string }
`;

const V2 = `version: 2.0.0
description: A database password of its own, made by Berth.
upgrade_from: ">=1.0.0"
questions:
  - { variable: database_user, label: Database user, type: string, default: app, pattern: "[a-z][a-z0-9_]*", pattern_message: "must start with a letter and hold only a-z, 0-9 and _" }
  - { variable: database_password, label: Database password, type: password, required: true, generate: { length: 24, charset: alnum } }
  - { variable: edition, label: Edition, type: enum, options: [community, enterprise], default: community }
  - { variable: public_host, label: Public host, type: string, default: localhost }
  - { variable: port, label: Host port, type: int, required: true, default: 18080 }
migrations:
  - rename: { from: db_user, to: database_user }
  - set: { variable: public_host, template: '{{lookup (split address ":") 0}}' }
  - drop: [address, legacy_mode]
`;

const V3 = `version: 3.0.0
description: Editions renamed; the database user can no longer change.
upgrade_from: ">=1.0.0"
questions:
  - { variable: database_user, label: Database user, type: string, default: app, immutable: true, pattern: "[a-z][a-z0-9_]*", pattern_message: "must start with a letter and hold only a-z, 0-9 and _" }
  - { variable: database_password, label: Database password, type: password, required: true, generate: { length: 24, charset: alnum } }
  - { variable: edition, label: Edition, type: enum, options: [standard, premium], default: standard }
  - { variable: public_host, label: Public host, type: string, default: localhost }
  - { variable: port, label: Host port, type: int, required: true, default: 18080 }
migrations:
  - map: { variable: edition, values: { community: standard, enterprise: premium } }
`;

/** busybox httpd serving /www behind Basic auth for the user and password the stack answers. */
const compose = (user: string, password: string | undefined, extra: string) => `services:
  db:
    image: berth-test/web:1
    command: ["sh", "-c", ${JSON.stringify(`printf '%s\\n' "/:$DB_USER:$DB_PASSWORD" > /tmp/httpd.conf && exec httpd -f -p 80 -c /tmp/httpd.conf -h /www`)}]
    environment:
      DB_USER: {{${user}}}
      DB_PASSWORD: ${password === undefined ? 'fixed-password-of-v1' : `{{${password}}}`}
${extra}    ports:
      - "{{port}}:80"
    stop_grace_period: 1s
`;

export const SAFE_FILES: Record<string, string> = {
  'templates/safe/config.yml': 'name: safe\ndescription: A database that upgrades safely.\n',
  'templates/safe/1.0.0/berth.yml': V1,
  'templates/safe/1.0.0/docker-compose.yml.hbs': compose('db_user', undefined, '      EDITION: {{edition}}\n      ADDRESS: {{address}}\n'),
  'templates/safe/2.0.0/berth.yml': V2,
  'templates/safe/2.0.0/docker-compose.yml.hbs': compose('database_user', 'database_password', '      EDITION: {{edition}}\n      PUBLIC_HOST: {{public_host}}\n'),
  'templates/safe/2.0.0/README.md': '## 2.0.0\n\nThe database gets a password of its own.\n',
  'templates/safe/3.0.0/berth.yml': V3,
  'templates/safe/3.0.0/docker-compose.yml.hbs': compose('database_user', 'database_password', '      EDITION: {{edition}}\n      PUBLIC_HOST: {{public_host}}\n'),
  'templates/safe/3.0.0/README.md': '## 3.0.0\n\nEditions are now standard and premium.\n',
};

/** The catalog folder holding templates/safe; `upTo` leaves the later versions out (a catalog that grows). */
export function writeSafeCatalog(root = mkdtempSync(path.join(tmpdir(), 'berth-safe-catalog-')), upTo = '3.0.0'): string {
  const later = ['1.0.0', '2.0.0', '3.0.0'].filter((v) => v > upTo);
  for (const [name, text] of Object.entries(SAFE_FILES)) {
    if (later.some((v) => name.includes(`/${v}/`))) continue;
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

export const safeStack = (port: number) => `# The orders database.
template: safe
version: 1.0.0   # pinned
answers:
  db_user: orders   # owner of the schema
  edition: enterprise
  address: "orders.example.com:8443"
  port: ${port}
  legacy_mode: "on"
`;
