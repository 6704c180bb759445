/**
 * compose profiles: a service that lists `profiles:` runs only when one of them is active (the stack's
 * `profiles:`, compose's `--profile`); a service without profiles always runs. A running service that depends
 * on one left out is an error naming both, as in compose, unless the dependency is `required: false`.
 */
import { ValidationError, type Problem } from '../lib/errors.ts';
import type { StackModel } from './model.ts';

export function isActive(profiles: string[] | undefined, active: readonly string[]): boolean {
  return !profiles?.length || active.includes('*') || profiles.some((p) => active.includes(p));
}

/** The model with only the services the active profiles run; `file` names the stack for errors. */
export function activateProfiles(model: StackModel, active: readonly string[], file: string): StackModel {
  const running = Object.fromEntries(Object.entries(model.services).filter(([, s]) => isActive(s.profiles, active)));
  if (Object.keys(running).length === Object.keys(model.services).length) return model;
  const problems: Problem[] = [];
  for (const svc of Object.values(running)) {
    for (const [dep, d] of Object.entries(svc.depends_on)) {
      if (running[dep] || !d.required) continue;
      const theirs = model.services[dep]?.profiles?.join(', ') ?? '';
      problems.push({
        file, field: `services.${svc.name}.depends_on.${dep}`,
        message: `service "${svc.name}" needs service "${dep}", which runs only with profile ${theirs}; add one of them to the stack's profiles: or make the dependency required: false`,
      });
    }
  }
  if (problems.length) throw new ValidationError('PROFILES_INCOMPLETE', `${file}: the active profiles leave out services others need`, problems);
  const services = Object.fromEntries(Object.entries(running).map(([name, s]) => [name, {
    ...s, depends_on: Object.fromEntries(Object.entries(s.depends_on).filter(([dep]) => running[dep])),
  }]));
  return { ...model, services };
}
