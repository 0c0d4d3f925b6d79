/** shipway's version: package.json's (a test keeps them equal), the component's release tag. */
export const SHIPWAY_VERSION = '0.1.0';
