/**
 * A string as a YAML scalar: plain when it cannot be read as anything else, else double-quoted
 * (a JSON string is a valid YAML double-quoted scalar, YAML 1.2 §7.3.1), so a value taken from the
 * repository (a file name, a remote URL) can never add keys or documents to a generated file.
 */
export function yamlScalar(text: string): string {
  const plain =
    /^[A-Za-z0-9_./][A-Za-z0-9_./@+-]*$/.test(text) &&
    !/^(true|false|yes|no|on|off|null|~|y|n)$/i.test(text) &&
    !/^[-+]?(\.?\d|0x|0o|\.inf|\.nan)/i.test(text);
  return plain ? text : JSON.stringify(text);
}
