/**
 * The `none` provider: no authentication. It must be written out in the env file,
 * and every delivery it accepts is logged as unauthenticated.
 *
 * @module
 */

import type { Provider } from "./types.ts";
import { checkEventSettings, EVENT_SETTINGS, genericAccept, genericSignHeaders } from "./_event.ts";

/** The `none` provider. */
export const none: Provider = {
  name: "none",
  summary: "No authentication (write it explicitly; logged as unauthenticated)",
  secret: "none",
  settings: { ...EVENT_SETTINGS },
  create(endpoint) {
    // The executor turns a settings error into a rejection, like the others.
    return new Promise((resolve) => {
      checkEventSettings(endpoint);
      resolve((input) =>
        Promise.resolve(genericAccept(input.headers, input.body, endpoint.settings, "none"))
      );
    });
  },
  // Nothing is signed; only the event and delivery headers are claimed.
  sign(endpoint, _body, options) {
    return Promise.resolve(genericSignHeaders(endpoint.settings, options));
  },
};
