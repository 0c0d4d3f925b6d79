import type { Command } from 'commander';
import { DEFAULT_BASE } from '../../app/defaults.js';
import { UsageError } from '../../core/errors.js';
import { contextFor } from '../context-from-io.js';
import { type CliIo, interruptionOf } from '../io.js';

interface BuildFlags {
  base?: string;
  tag?: string;
  push: boolean;
  dotenv?: string;
  dockerfile?: string;
  prebuilt: boolean;
  config: string;
  json: boolean;
}

interface PullFlags {
  to: string;
  json: boolean;
}

export function registerImage(program: Command, io: CliIo): void {
  const image = program.command('image').description('build, publish and inspect the service image');
  registerBuild(image, io);
  registerBuildTool(image, io);
  registerPull(image, io);
}

interface BuildToolFlags {
  tarball: string;
  repository: string;
  tag?: string;
  push: boolean;
  json: boolean;
}

function registerBuildTool(image: Command, io: CliIo): void {
  image
    .command('build-tool')
    .description("build shipway's tool image (Node.js, shipway and git) from a packed shipway tarball, and push it")
    .requiredOption('--tarball <file>', 'the shipway package as `npm pack -w shipway` wrote it')
    .requiredOption('--repository <repo>', 'where the image goes, without a tag (e.g. $CI_REGISTRY_IMAGE/shipway)')
    .option('--tag <tag>', "the image tag (default: the package's version)")
    .option('--push', 'push the image to --repository', false)
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
The deploy, promote and rollback jobs of the deliver component run in this image and install
nothing. Layers: this machine's Node runtime (as --base host: node, npm, sh and their libraries),
this machine's git with its HTTP helpers, libraries, templates and CA bundle, shipway's production
dependencies exactly as package-lock.json pins them (from the installed node_modules), and the
package itself where npm installs a global package for this Node (<prefix>/lib/node_modules/shipway,
<prefix>/bin/shipway). Run from a checkout of shipway after npm ci. Timestamps are
SOURCE_DATE_EPOCH (else 0), so the same tarball, lockfile and host binaries give the same digest.

Examples:
  $ npm pack -w shipway && shipway image build-tool --tarball shipway-0.1.0.tgz --repository 127.0.0.1:5000/shipway
  $ shipway image build-tool --tarball shipway-0.1.0.tgz --repository "$CI_REGISTRY_IMAGE/shipway" --push`,
    )
    .action(async (options: BuildToolFlags) => {
      const { context, output } = contextFor(io, options.json);
      const { buildToolImage } = await import('../../app/image-build-tool.js');
      const result = await buildToolImage(context, options);
      if (output.json) return output.data(result);
      const pushed = { pushed: 'pushed', 'already-published': 'already published', 'not-pushed': 'built (not pushed)' }[
        result.push
      ];
      output.result(`${pushed}: ${result.ref}`);
      output.result(
        `  shipway ${result.versions.shipway}, node ${result.versions.node}, git ${result.versions.git}; ${(result.compressedSize / 1024 / 1024).toFixed(1)} MiB compressed`,
      );
    });
}

function registerPull(image: Command, io: CliIo): void {
  image
    .command('pull')
    .description('pull an image by tag or digest, verify it, and unpack it into a directory')
    .argument('<ref>', 'repository[:tag][@sha256:…], e.g. 127.0.0.1:5000/hello:src-0123456789abcdef')
    .requiredOption('--to <dir>', 'a new or empty directory to unpack into')
    .option('--json', 'print the result as JSON', false)
    .addHelpText(
      'after',
      `
Writes three things into <dir>, and nothing anywhere else:
  <dir>/rootfs         the merged root filesystem: every layer applied in order, whiteouts
                       honoured, files hard-linked, the image's own symlinks kept as they are
  <dir>/config.json    the image config (Env, Cmd, WorkingDir, Labels, …), as pulled
  <dir>/manifest.json  the image manifest, as pulled
Layers are unpacked and merged by the embedded cluster's own code (merged here into
hard-linked trees, where the cluster links into its layer cache). Every blob is checked: the manifest against the
digest asked for (or the registry's Docker-Content-Digest), the config and layers against the
manifest, and each unpacked layer against the config's diff_id. A layer entry that leaves the
image, passes through a symlink, or hard-links to something outside its layer fails the pull
with exit 3 and leaves <dir> as it was. A multi-platform index resolves to linux/<this machine>.

Registry credentials: as for image build (SHIPWAY_REGISTRY_USERNAME/PASSWORD, docker config.json,
ECR via the AWS SDK).

Examples:
  $ shipway image pull 127.0.0.1:5000/hello:src-0123456789abcdef --to /tmp/hello
  $ ls /tmp/hello/rootfs/app && jq .config.Cmd /tmp/hello/config.json
  $ shipway image pull "$IMAGE_REF" --to ./image --json`,
    )
    .action(async (ref: string, options: PullFlags) => {
      const { context, output } = contextFor(io, options.json);
      const { pullImage } = await import('../../app/image-pull.js');
      const result = await pullImage(context, { reference: ref, to: options.to });
      if (output.json) return output.data(result);
      output.result(`pulled ${result.ref} (${result.layers.length} layers)`);
      output.result(`  ${result.rootfs}`);
      output.result(`  ${result.config}`);
      output.result(`  ${result.manifest}`);
    });
}

function registerBuild(image: Command, io: CliIo): void {
  buildOptions(
    image
      .command('build')
      .description(
        'assemble the service image without a Docker daemon (or build a Dockerfile with buildah) and push it',
      ),
  )
    .addHelpText('after', BUILD_HELP)
    .action((options: BuildFlags) => build(io, options));
}

function buildOptions(command: Command): Command {
  return command
    .option(
      '--base <ref|host>',
      `base image: a registry reference, or "host" for a Node runtime made from this machine (default: $SHIPWAY_BASE_IMAGE, else ${DEFAULT_BASE})`,
    )
    .option('--tag <tag>', 'image tag (default: a hash of build.inputs, so unchanged inputs reuse the published image)')
    .option(
      '--push',
      'push to image.repository from shipway.yaml; a published content tag is reused without building',
      false,
    )
    .option(
      '--dotenv <file>',
      'write IMAGE_REPOSITORY, IMAGE_TAG, IMAGE_DIGEST, IMAGE_REF for GitLab artifacts:reports:dotenv',
    )
    .option(
      '--prebuilt',
      "use build.output as it is (the build job's artifacts) instead of running npm run build; it must exist",
      false,
    )
    .option(
      '--dockerfile <path>',
      'build this Dockerfile with buildah instead (vfs storage, chroot isolation, fixed timestamp)',
    )
    .option('--config <file>', 'the shipway config', 'shipway.yaml')
    .option('--json', 'print the result as JSON', false);
}

const BUILD_HELP = `
Layers: the base's, then production node_modules (from package-lock.json), then the compiled app,
so a code change re-uploads only the small app layer. Entries are sorted and owned by root; every
timestamp comes from the inputs (SOURCE_DATE_EPOCH, else the last commit that changed
build.inputs), the revision label is that commit and the source label is image.source or
CI_PROJECT_URL (never the local remote): the same inputs build the same digest on any machine
and at any commit. With --push and the default tag, a tag the registry already has is reused:
nothing is compiled, built or uploaded, and --dotenv is still written.
The image is also kept as an OCI layout in .shipway/oci (skopeo copy oci:.shipway/oci:<tag> …).

Registry credentials: SHIPWAY_REGISTRY_USERNAME/PASSWORD, a docker config.json (DOCKER_CONFIG,
REGISTRY_AUTH_FILE), or for ECR the AWS SDK's default credential chain (web identity included).

Examples:
  $ shipway image build --base host --push --dotenv build.env
  $ shipway image build --prebuilt --push --dotenv build.env   # service/dist from the build job
  $ shipway image build --dockerfile service/Dockerfile --base 127.0.0.1:5000/base/node:host --push`;

async function build(io: CliIo, options: BuildFlags): Promise<void> {
  const { context, output } = contextFor(io, options.json);
  const common = {
    base: options.base,
    tag: options.tag,
    push: options.push,
    dotenv: options.dotenv,
    configFile: options.config,
    prebuilt: options.prebuilt,
  };
  if (options.prebuilt && options.dockerfile !== undefined)
    throw new UsageError(
      'FLAGS_CONFLICT',
      '--prebuilt and --dockerfile do not go together: a Dockerfile compiles in its own stages',
    );
  const result =
    options.dockerfile === undefined
      ? await (await import('../../app/image-build.js')).buildImage(context, common)
      : await (await import('../../app/image-build-dockerfile.js')).buildDockerfileImage(context, {
          ...common,
          dockerfile: options.dockerfile,
          // SIGINT/SIGTERM stop buildah and what it runs (only here: the built-in builder keeps
          // the default disposition and simply ends).
          signal: interruptionOf(io),
        });
  if (output.json) return output.data(result);
  const pushed = { pushed: 'pushed', 'already-published': 'already published', 'not-pushed': 'built (not pushed)' }[
    result.push
  ];
  output.result(`${pushed}: ${result.ref}`);
}
