import type { InitSettings } from './init-facts.js';
import { ENVIRONMENTS } from './render-overlays.js';

/**
 * The group variables of the original pipeline and what replaces each (docs/gitlab.md has the
 * full table): set once on the GitLab group, inherited by every service project.
 */
export const GROUP_VARIABLES: readonly (readonly [original: string, now: string])[] = [
  [
    'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY',
    'AWS_ROLE_ARN: a role trusted through GitLab OIDC (the publish job gets AWS_ID_TOKEN); the static keys still work',
  ],
  [
    'AWS_ACCOUNT_ID, AWS_DEFAULT_REGION',
    'unchanged: each project pushes to <account>.dkr.ecr.<region>.amazonaws.com/<app>',
  ],
  [
    'AWS_REPOSITORY',
    'remove it from the group: it would send every project to one repository (the component input image-repository replaces it)',
  ],
  ['KUBE_CONFIG (base64)', 'KUBECONFIG as a File variable (the base64 KUBE_CONFIG is still read)'],
  [
    'CI_USERNAME, CI_PUSH_TOKEN',
    'CI_JOB_TOKEN: allow job token pushes in each project (Settings > CI/CD > Job token permissions), or keep them',
  ],
];

/** What to do after init, as lines for people. */
export function nextSteps(s: InitSettings): string[] {
  const width = Math.max(...GROUP_VARIABLES.map(([original]) => original.length));
  const branches = ENVIRONMENTS.join(', ');
  return [
    'Next steps:',
    `  1. Commit the files and push; create the environment branches ${branches} from it`,
    `     (git push origin HEAD:${ENVIRONMENTS.join(` HEAD:`)}) and protect them, and the prod environment.`,
    '  2. On the GitLab group (Settings > CI/CD > Variables), once for all services, the original variables:',
    ...GROUP_VARIABLES.map(([original, now]) => `       ${original.padEnd(width)}  -> ${now}`),
    `     and publish the component project ${s.componentProject} to the CI/CD catalog (docs/gitlab.md).`,
    '  3. In each cluster, once: kubectl apply -n argocd -f deployment/argocd/applicationset.yaml',
    `     (Argo CD then follows branches ${branches} into namespaces ${ENVIRONMENTS.map((env) => `${s.namespacePrefix}-${env}`).join(', ')}).`,
    '  4. Check it here: npx shipway validate; npx shipway lint; and run the whole flow on this machine:',
    '     npx shipway run --yes',
  ];
}
