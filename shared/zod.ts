/**
 * The zod every schema of the domain is written with: `zod/mini`, whose checks are functions, so a
 * bundle carries only the validators it uses (about a quarter of classic zod's size). Mini has no
 * messages of its own: the English ones are set here, because INVALID_INPUT's `detail` and the
 * config errors quote them (`expected string, received number`). Import it as
 * `import * as z from './zod'`: property reads on the namespace keep the bundle tree-shaken.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
