/**
 * The `none` provider: no authentication. It must be written out in the env
 * file, and every delivery it accepts is logged as unauthenticated.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { EVENT_SETTINGS, genericAccept } from "./_event.ts";

/** The `none` provider. */
export const none: Provider = {
  name: "none",
  summary: "No authentication (write it explicitly; logged as unauthenticated)",
  secret: "none",
  settings: { ...EVENT_SETTINGS },
  create(endpoint) {
    return Promise.resolve((input) =>
      Promise.resolve(genericAccept(input.headers, input.body, endpoint.settings, "none"))
    );
  },
};
