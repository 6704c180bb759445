import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderVersion } from '../../catalog/render.ts';
import { yamlToModel } from '../../catalog/compose-yaml.ts';
import type { Answers, Template, TemplateVersion } from '../../catalog/types.ts';

const FILE = 'templates/t/0/docker-compose.yml.hbs';

function render(source: string, values: Answers) {
  const version: TemplateVersion = { folder: '0', version: '1.0.0', questions: [], compose: { file: FILE, kind: 'handlebars', source } };
  const template: Template = { name: 't', dir: 'templates/t', config: { name: 't', description: 't' }, versions: [version] };
  return renderVersion({ template, version, catalogRoot: '/catalog', values, context: { stack: 'demo', template: { name: 't', version: '1.0.0' } } });
}

/** Every value lands somewhere a naive text substitution would break the document. */
const HOSTILE = [
  '&', '"', "'", ':', '#', '{', '}', '[', ']', '\\', '$', '%',
  '*alias', '!tag', '- item', '? key', '| block', '> folded', '@at', '`tick',
  '  leading', 'trailing  ', ' both ', 'a: b', 'a #b', 'x\ny', '\n  evil: 1', '"\nservices:\n  pwn:\n    image: x',
  '---\nkind: 2', '{{x}}', '${VAR}', 'null', 'true', '123', '0x1F', '', ' ', '\t', 'multi\n\nline\n', '...', 'ü 🚢',
];

/** One template placing `v` (and `img`) in every kind of position. */
const TEMPLATE = `services:
  web:
    image: {{img}}
    environment: { MSG: {{v}} }
    command:
      - {{v}}
      - "{{v}}"
      - prefix-{{v}}
      - 'single {{v}} quoted'
    labels:
      plain: {{v}}
      quoted: "{{v}}"
      literal: |
        {{v}}
      folded: >-
        {{v}}
configs:
  c:
    content: |
      line one
      {{v}}
`;

describe('hostile answers never change the document', () => {
  for (const v of HOSTILE) {
    test(`value ${JSON.stringify(v)}`, () => {
      const img = v.trim() ? v : 'nginx';
      const r = render(TEMPLATE, { v, img });
      const web = r.model.services.web;
      assert.deepEqual(Object.keys(r.model.services), ['web']);
      assert.deepEqual(Object.keys(r.model.configs), ['c']);
      assert.equal(web.image, img);
      assert.deepEqual(web.environment, { MSG: v });
      assert.deepEqual(web.command, [v, v, `prefix-${v}`, `single ${v} quoted`]);
      assert.deepEqual(Object.keys(web.labels), ['plain', 'quoted', 'literal', 'folded']);
      assert.equal(web.labels.plain, v);
      assert.equal(web.labels.quoted, v);
      assert.equal(web.labels.literal, `${v}\n`);
      assert.equal(web.labels.folded, v);
      assert.equal(r.model.configs.c.content, `line one\n${v}\n`);
      // The normalized YAML carries the same values back, read as compose reads it ($$ is a literal $).
      const again = yamlToModel(r.yaml, r.model.name, 'out.yml');
      assert.deepEqual(Object.keys(again.services), ['web']);
      assert.equal(again.services.web.environment.MSG, v);
      assert.deepEqual(again, r.model);
    });
  }

  test('a hostile key stays one key', () => {
    const r = render('services:\n  web:\n    image: nginx\n    labels:\n      {{k}}: 1\n', { k: 'a: b\nc: d' });
    assert.deepEqual(r.model.services.web.labels, { 'a: b\nc: d': '1' });
  });

  test('a hostile value in a list item stays one item', () => {
    const r = render('services:\n  web:\n    image: nginx\n    cap_add:\n      - {{v}}\n', { v: 'NET_ADMIN\n      - SYS_ADMIN' });
    assert.deepEqual(r.model.services.web.cap_add, ['NET_ADMIN\n      - SYS_ADMIN']);
  });
});
