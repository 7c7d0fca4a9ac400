import { parse } from 'yaml';
import { cachedText } from '../cache/store.js';
import { YAML_ID } from '../cache/yaml-id.js';
import { renderTemplate } from '../templates.js';
import { runImage, secretVariable, type ServiceModel, type StackModel } from './model.js';

/** The compose file of a stack as placed on the server: templates/compose/stack.hbs rendered. */

/** Compose interpolates "$" in every string: a literal value keeps its dollars by doubling them. */
const literal = (v: string) => v.replace(/\$/g, '$$$$');

function environmentOf(svc: ServiceModel): { name: string; value: string }[] {
  return svc.environment.map((e) =>
    'secret' in e
      ? { name: e.name, value: `\${${secretVariable(e.secret)}:?secret ${e.secret} is missing from .env}` }
      : { name: e.name, value: literal(e.value) },
  );
}

function serviceView(svc: ServiceModel, stack: StackModel) {
  const hc = svc.healthcheck;
  return {
    key: svc.key,
    containerName: svc.containerName,
    image: runImage(svc),
    command: svc.command?.map(literal) ?? null,
    restart: svc.restart,
    ports: svc.ports.map((p) => `${p.hostIp}:${p.hostPort}:${p.containerPort}/${p.protocol}`),
    expose: svc.expose.map(String),
    environment: environmentOf(svc),
    volumes: svc.volumes.map((v) => literal(`${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`)),
    networks: svc.networks,
    dependsOn: svc.dependsOn.map((d) => ({
      service: d,
      // Health gating inside the stack too: a dependency with a healthcheck must be healthy first.
      condition: stack.services.find((s) => s.key === d)?.healthcheck ? 'service_healthy' : 'service_started',
    })),
    healthcheck: hc
      ? {
          test: (typeof hc.test === 'string' ? ['CMD-SHELL', hc.test] : hc.test).map(literal),
          interval: hc.interval,
          timeout: hc.timeout,
          retries: hc.retries,
          start_period: hc.start_period,
          start_interval: hc.start_interval,
        }
      : null,
  };
}

/** Renders the stack's compose.yaml and parses it back to prove it says what the inventory says. */
export function renderCompose(stack: StackModel): string {
  const text = renderTemplate('compose/stack.hbs', {
    name: stack.name,
    layer: stack.layer,
    services: stack.services.map((s) => serviceView(s, stack)),
    networks: stack.networks,
  });
  verifyRendered(stack, text);
  return text;
}

interface ParsedCompose {
  name?: string;
  services?: Record<string, { container_name?: string; image?: string; networks?: string[]; restart?: string }>;
  networks?: Record<string, { name?: string }>;
}

function verifyRendered(stack: StackModel, text: string): void {
  // The parse of this exact text, remembered (the parser is pure): 7 stacks' files on every run.
  const doc = JSON.parse(cachedText('compose-parsed', `${YAML_ID}\0${text}`, () => JSON.stringify(parse(text)))) as ParsedCompose;
  const problems: string[] = [];
  if (doc.name !== stack.name) problems.push(`name ${String(doc.name)}`);
  for (const svc of stack.services) {
    const got = doc.services?.[svc.key];
    if (!got) problems.push(`service ${svc.key} missing`);
    else if (got.container_name !== svc.containerName || got.image !== runImage(svc) || got.restart !== svc.restart)
      problems.push(`service ${svc.key}`);
  }
  if (Object.keys(doc.services ?? {}).length !== stack.services.length) problems.push('service count');
  for (const n of stack.networks) if (doc.networks?.[n.key]?.name !== n.name) problems.push(`network ${n.key}`);
  if (problems.length)
    throw new Error(
      `templates/compose/stack.hbs rendered a compose file for ${stack.name} that does not match the inventory: ${problems.join(', ')}`,
    );
}
