import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { expandVariables, imageRepository, parseShipwayConfig } from './shipway-config.js';

const valid = `
app: hello
image: { name: hello-service, repository: "\${AWS_REPOSITORY:-127.0.0.1:5000/hello}" }
build: { inputs: [service/src] }
environments:
  - { name: dev, branch: dev, overlay: deployment/dev, namespace: hello-dev }
  - { name: prod, branch: prod, overlay: deployment/prod, namespace: hello-prod, from: dev, gate: manual }
`;

function problemsOf(text: string): readonly string[] {
  try {
    parseShipwayConfig(text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseShipwayConfig', () => {
  it('applies defaults', () => {
    const config = parseShipwayConfig(valid);
    expect(config.git.remote).toBe('origin');
    expect(config.environments[0]?.gate).toBe('auto');
    expect(config.environments[1]?.gate).toBe('manual');
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf(`
app: Hello
image: { name: hello-service }
build: { inputs: [../outside] }
environments:
  - { name: dev, branch: "bad..branch", overlay: /abs, namespace: hello-dev, rollout: { name: hello, strategy: linear } }
`);
    expect(problems).toEqual([
      'app: must be a DNS label (lower-case letters, digits, -)',
      'image.repository: Invalid input: expected string, received undefined',
      'build.inputs.0: must be a path inside the repository',
      'environments.0.branch: must be a valid Git branch name',
      'environments.0.overlay: must be a path inside the repository',
      'environments.0.rollout.strategy: Invalid option: expected one of "canary"|"blueGreen"|"rolling"',
    ]);
  });

  it('checks environments against each other', () => {
    const problems = problemsOf(valid.replace('from: dev', 'from: qa').replace('branch: prod', 'branch: dev'));
    expect(problems).toEqual([
      'environments[1].from: "qa" must name an environment listed before prod',
      'environments[1].branch: dev is used twice',
    ]);
  });

  it('names the line of a YAML syntax error', () => {
    expect(() => parseShipwayConfig('app: [unclosed\n')).toThrow(ConfigError);
    expect(problemsOf('app: [unclosed\n')[0]).toMatch(/^shipway.yaml: .*line 2/);
  });
});

describe('expandVariables', () => {
  it('expands ${VAR} and ${VAR:-default}', () => {
    expect(expandVariables('${A}.dkr.ecr.${R:-ap-northeast-2}.amazonaws.com/hello', { A: '1234' }, 'x')).toBe(
      '1234.dkr.ecr.ap-northeast-2.amazonaws.com/hello',
    );
  });

  it('names every unset variable', () => {
    expect(() => expandVariables('${A}/${B}', {}, 'image.repository')).toThrow(
      'image.repository needs A, B, which are not set',
    );
  });

  it('checks the expanded repository', () => {
    const config = parseShipwayConfig(valid);
    expect(imageRepository(config, {})).toBe('127.0.0.1:5000/hello');
    expect(() => imageRepository(config, { AWS_REPOSITORY: 'Not A Repo' })).toThrow(/not a valid repository/);
  });
});
