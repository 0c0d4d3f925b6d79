import type { GeneratedFile, InitSettings } from './init-facts.js';
import { ENVIRONMENTS, namespaceOf } from './render-overlays.js';
import { yamlScalar } from './yaml-scalar.js';

/** The tool image the component's deploy jobs run in, at this shipway's version (docs/gitlab.md). */
export const shipwayImage = (version: string) => `registry.example.com/shipway/shipway:${version}`;

const list = (items: readonly string[], indent: string) =>
  items.map((item) => `${indent}- ${yamlScalar(item)}`).join('\n');

function shipwayYaml(s: InitSettings): GeneratedFile {
  const strategy = (env: string) => (env === 'prod' && s.canary ? 'canary' : 'rolling');
  const environments = ENVIRONMENTS.map((env, index) => {
    const from = index === 0 ? '' : `\n    from: ${ENVIRONMENTS[index - 1]}`;
    return `  - name: ${env}
    branch: ${env}
    overlay: deployment/${env}
    namespace: ${namespaceOf(s, env)}${from}
    gate: ${env === 'prod' ? 'manual' : 'auto'}
    rollout: { name: ${s.app}, strategy: ${strategy(env)} }`;
  }).join('\n');
  const output = s.build
    ? `  # \`npm run build\` writes the app here; the image ships it with package.json.\n  output: ${yamlScalar(s.output)}`
    : '  # No build step: the image ships the sources themselves (not dotfiles, node_modules or deployment/).\n  output: "."';
  return {
    path: 'shipway.yaml',
    content: `# shipway's delivery config: what is built, where it is pushed, and how it moves through the
# environments. Written by \`shipway init\`; checked by \`npx shipway validate\`.
app: ${s.app}

image:
  # The image name the manifests use (deployment/base/rollout.yaml); overlays pin it.
  name: ${s.app}
  # Where images are pushed: in GitLab, the component's image-repository input (AWS_REPOSITORY in
  # the publish job); locally, the embedded registry.
  repository: \${AWS_REPOSITORY:-127.0.0.1:5000/${s.app}}

build:
  context: .
${output}
  # The files whose content defines the image: the image tag is a hash of them, so a merge that
  # changes none of them reuses the image already published instead of rebuilding it.
  inputs:
${list(s.inputs, '    ')}

git:
  # The GitOps remote: a remote name of this checkout, a URL or a path.
  remote: origin

environments:
${environments}
`,
  };
}

function gitlabCi(s: InitSettings): GeneratedFile {
  const script = [...(s.build ? ['npm run build'] : []), ...(s.test ? ['npm test'] : [])];
  return {
    path: '.gitlab-ci.yml',
    content: `# The delivery pipeline is the group's shipway CI/CD component (templates/deliver.yml in
# ${s.componentProject}): build, publish, deploy per environment branch, and the prod canary's
# promote / rollback. Plan it offline with \`npx shipway plan --ref dev\`. Written by \`shipway init\`.
include:
  - component: $CI_SERVER_FQDN/${s.componentProject}/deliver@${s.version}
    inputs:
      app: ${s.app}
      environments: [${ENVIRONMENTS.join(', ')}]
      build-environment: ${ENVIRONMENTS[0]}
      production: prod
      canary: ${s.canary}
      # This service's own ECR repository, from the group's AWS_ACCOUNT_ID and AWS_DEFAULT_REGION.
      image-repository: $AWS_ACCOUNT_ID.dkr.ecr.$AWS_DEFAULT_REGION.amazonaws.com/${s.app}
      node-version: ${s.nodeVersion}
      build-script: [${(script.length > 0 ? script : ['npm ls --omit=dev']).map((line) => JSON.stringify(line)).join(', ')}]
      # The group's shipway tool image (Node.js, shipway, git) for the deploy and rollout jobs.
      shipway-image: ${shipwayImage(s.version)}
`,
  };
}

function dockerignore(s: InitSettings): GeneratedFile {
  return {
    path: '.dockerignore',
    content: `# What a Dockerfile build (BuildKit, buildah, kaniko) leaves out of the context.
# (\`shipway image build\` needs no Dockerfile: it ships ${s.build ? `${s.output}/ and package.json` : 'the sources, not dotfiles or node_modules'}.)
.git
.gitlab-ci.yml
.shipway
.env
.env.*
**/node_modules
**/npm-debug.log
**/coverage
deployment
shipway.yaml
Dockerfile
.dockerignore
${s.build ? `# Built inside the image from the sources.\n${s.output}\n` : ''}`,
  };
}

function dockerfile(s: InitSettings): GeneratedFile {
  const cmd = JSON.stringify(['node', s.entry, ...s.args]);
  const build = s.build
    ? `
# The compiler and dev dependencies, then the compiled app.
FROM \${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build
`
    : '';
  const app = s.build
    ? `COPY package.json ./\nCOPY --from=build /app/${s.output} ./${s.output}`
    : '# No build step: the sources are the app (.dockerignore leaves out the rest).\nCOPY . .';
  return {
    path: 'Dockerfile',
    content: `# ${s.app}'s image, for teams that keep a Dockerfile: \`shipway image build --dockerfile Dockerfile\`
# builds it with buildah (daemonless); BuildKit and kaniko build it too. \`shipway image build\`
# without --dockerfile assembles the same layout without one. Written by \`shipway init --dockerfile\`.
ARG BASE_IMAGE=node:${s.nodeVersion}-bookworm-slim

# Production dependencies only, from the lockfile: this layer is reused until the lockfile changes.
# (Drop --ignore-scripts if a dependency needs its install script, such as a native module.)
FROM \${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
${build}
FROM \${BASE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
${app}
# The node user (uid 1000) exists in the official Node images; never run as root.
USER 1000:1000
EXPOSE ${s.port}
# Not \`npm start\`: npm does not forward SIGTERM, so the app could not shut down gracefully.
CMD ${cmd}
`,
  };
}

/** shipway.yaml, .gitlab-ci.yml, .dockerignore and (with --dockerfile) a Dockerfile. */
export function renderServiceFiles(s: InitSettings): GeneratedFile[] {
  return [shipwayYaml(s), gitlabCi(s), dockerignore(s), ...(s.dockerfile ? [dockerfile(s)] : [])];
}
