/**
 * A small Rancher 1.x catalog written for these tests in Rancher's documented format (config.yml, version
 * folders, rancher-compose.yml with a `.catalog` block, docker-compose.yml[.tpl]); copied from no catalog.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type Files = Record<string, string>;

export async function writeTree(files: Files): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-rancher-src-'));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
  return root;
}

/** Every Rancher question type, with the fields Rancher documents. */
export const QUESTIONS_RC = `.catalog:
  name: questions
  version: 1.0.0
  description: every question type
  uuid: questions-0
  minimum_rancher_version: v1.6.0
  questions:
    - variable: NAME
      label: Name
      description: a string
      type: string
      required: true
      default: demo
      min_length: 2
      max_length: 20
      valid_chars: abcdefghijklmnopqrstuvwxyz-
    - variable: REPLICAS
      label: Replicas
      type: int
      default: "2"
      min: 1
      max: 5
    - variable: RATIO
      type: float
      default: "0.5"
    - variable: DEBUG
      type: boolean
      default: "false"
    - variable: EDITION
      type: enum
      options: [community, enterprise]
      default: community
    - variable: SECRET
      type: password
      default: hunter2
    - variable: MOTD
      type: multiline
      default: "hello\\nworld"
    - variable: STARTS
      type: date
    - variable: UPSTREAM
      type: service
    - variable: TLS_CERT
      type: certificate
      default: my-rancher-cert
`;

export const QUESTIONS_COMPOSE = `version: '2'
services:
  app:
    image: busybox:1
    environment:
      NAME: \${NAME}
      RATIO: \${RATIO}
      DEBUG: \${DEBUG}
      EDITION: \${EDITION}
      SECRET: \${SECRET}
      MISSING: \${NOT_A_QUESTION}
      WITH_DEFAULT: \${ALSO_MISSING:-fallback}
      DOLLAR: $$HOME
`;

/** Go template constructs Rancher catalogs use. */
export const GOTPL_RC = `.catalog:
  name: gotpl
  version: 2.0.0
  questions:
    - variable: MODE
      type: enum
      options: [a, b, c]
      default: b
    - variable: NODES
      type: int
      default: 3
    - variable: VOLUME_DRIVER
      type: string
      default: ""
    - variable: IMAGE
      type: string
      default: registry.example.com/app
    - variable: EXTRA
      type: string
      default: ""
    - variable: ENABLE_CACHE
      type: boolean
      default: "true"
`;

export const GOTPL = `version: '2'
services:
  app:
    image: {{ .Values.IMAGE }}:{{ default "latest" .Values.TAG_NOT_ASKED }}
    environment:
      STACK: {{ .Stack.Name }}
      {{- if eq .Values.MODE "a" }}
      MODE_TEXT: first
      {{- else if eq .Values.MODE "b" }}
      MODE_TEXT: second
      {{- else }}
      MODE_TEXT: other
      {{- end }}
      BIG: "{{ if gt (atoi .Values.NODES) 2 }}yes{{ else }}no{{ end }}"
      BOTH: "{{ if and (ne .Values.MODE "c") (not (eq .Values.EXTRA "x")) }}both{{ end }}"
      EITHER: "{{ if or (lt (atoi .Values.NODES) 1) (eq .Values.MODE "b") }}either{{ end }}"
      FIRST: "{{ printf "%.1s" .Values.IMAGE }}"
      PADDED: "{{ printf "%s-%d" .Values.MODE 7 }}"
      SLASHED: "{{ if contains "/" .Values.IMAGE }}has-slash{{ end }}"
      REPLACED: "{{ replace "." "_" .Values.IMAGE }}"
      PIPED: "{{ .Values.MODE | printf "mode=%s" }}"
      {{- range $i, $e := atoi .Values.NODES | until }}
      NODE_{{ $i }}: node{{ $i }}.{{ $.Stack.Name }}
      {{- end }}
    {{- if .Values.EXTRA }}
    command: ["run", "{{ .Values.EXTRA }}"]
    {{- end }}
{{- if eq .Values.ENABLE_CACHE "true" }}
  cache:
    image: busybox:1
{{- end }}
`;

/** Compose file format 1 with old keys, Rancher labels and rancher-compose.yml settings. */
export const V1_RC = `.catalog:
  name: classic
  version: 0.9.0
  questions:
    - variable: HOST_LABEL
      type: string
      default: "role=web"
    - variable: PUBLIC_PORT
      type: int
      default: 8080
web:
  scale: 2
  health_check:
    port: 80
    request_line: GET /healthz HTTP/1.0
    interval: 2000
    response_timeout: 1500
    healthy_threshold: 2
    unhealthy_threshold: 3
    initializing_timeout: 10000
    strategy: recreate
  upgrade_strategy:
    start_first: true
    batch_size: 1
    interval_millis: 3000
agent:
  health_check:
    port: 9000
    interval: 5000
    unhealthy_threshold: 2
lb:
  scale: 1
  lb_config:
    port_rules:
      - source_port: 80
        target_port: 80
        service: web
        hostname: web.example.com
        protocol: http
      - source_port: 80
        target_port: 8000
        service: api
        hostname: api.example.com
        path: /v1
        protocol: http
        priority: 1
`;

export const V1_COMPOSE = `web:
  image: berth-test/web:1
  net: bridge
  log_driver: json-file
  log_opt:
    max-size: 10m
  mem_limit: 64m
  cpu_shares: 512
  volume_driver: local
  volumes:
    - webdata:/data
  labels:
    io.rancher.scheduler.affinity:host_label: role=web,zone=a
    io.rancher.scheduler.affinity:host_label_ne: broken=true
    io.rancher.scheduler.affinity:container_label_soft_ne: io.rancher.stack_service.name=$\${stack_name}/$\${service_name}
    io.rancher.container.pull_image: always
    io.rancher.sidekicks: web-logger
web-logger:
  image: busybox:1
  command: sh -c 'sleep 3600'
  hostname: logger
  ports:
    - "9100:9100"
api:
  image: busybox:1
  labels:
    io.rancher.scheduler.affinity:host_label: \${HOST_LABEL}
agent:
  image: busybox:1
  labels:
    io.rancher.scheduler.global: 'true'
setup:
  image: busybox:1
  labels:
    io.rancher.container.start_once: 'true'
alias:
  image: rancher/dns-service
  links:
    - web:web
lb:
  image: rancher/lb-service-haproxy:v0.7.9
  ports:
    - \${PUBLIC_PORT}:80
  links:
    - web:web
    - api:api
`;

export const CATALOG: Files = {
  'templates/questions/config.yml': 'name: Questions\ndescription: every question type\nversion: 1.0.0\ncategory: Test\nmaintainer: tests\nlicense: Apache-2.0\nprojectURL: https://example.com\n',
  'templates/questions/catalogIcon-questions.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'templates/questions/0/rancher-compose.yml': QUESTIONS_RC,
  'templates/questions/0/docker-compose.yml': QUESTIONS_COMPOSE,
  'templates/questions/0/README.md': '# 1.0.0\n\nFirst release.\n',
  'templates/gotpl/config.yml': 'name: Go templates\ndescription: Go template constructs\nversion: 2.0.0\n',
  'templates/gotpl/0/rancher-compose.yml': GOTPL_RC,
  'templates/gotpl/0/docker-compose.yml.tpl': GOTPL,
  'templates/classic/config.yml': 'name: Classic\ndescription: compose v1 with Rancher semantics\n',
  'templates/classic/0/rancher-compose.yml': V1_RC,
  'templates/classic/0/docker-compose.yml': V1_COMPOSE,
  'templates/classic/1/rancher-compose.yml': V1_RC,
  'templates/classic/1/docker-compose.yml': V1_COMPOSE,
  'templates/broken/config.yml': 'name: Broken\ndescription: a version that cannot be converted\n',
  'templates/broken/0/rancher-compose.yml': '.catalog:\n  version: 1.0.0\n',
  'templates/broken/0/docker-compose.yml.tpl': 'services:\n  a:\n    image: {{ .Values.X | nosuchfunction }}\n',
  'templates/broken/1/rancher-compose.yml': '.catalog:\n  version: 1.1.0\n',
  'templates/broken/1/docker-compose.yml': 'services:\n  a:\n    image: busybox:1\n',
};
