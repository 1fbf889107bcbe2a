#!/usr/bin/env node
// The published entry point: TypeScript sources run through tsx's loader, so there is no build step
// between `npm ci` and `npm start`.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start that its future releases will need Node 22; Candor pins a release
// that supports Node 20, so the warning only alarms operators.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../src/main.ts');
