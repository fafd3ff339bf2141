/**
 * The providers hookd knows by name, and the one call that builds an
 * endpoint's verify function from its settings.
 *
 * @module
 */

import type { EndpointSettings, Provider, Verify } from "./types.ts";
import { azureDevops, clerk, postmark, resend } from "./aliases.ts";
import { circleci } from "./circleci.ts";
import { contentful } from "./contentful.ts";
import { docusign } from "./docusign.ts";
import { hubspot } from "./hubspot.ts";
import { intercom } from "./intercom.ts";
import { lemonsqueezy } from "./lemonsqueezy.ts";
import { mux } from "./mux.ts";
import { square } from "./square.ts";
import { vercel } from "./vercel.ts";
import { bitbucket } from "./bitbucket.ts";
import { calendly } from "./calendly.ts";
import { discord } from "./discord.ts";
import { dropbox } from "./dropbox.ts";
import { forgejo } from "./forgejo.ts";
import { gitea } from "./gitea.ts";
import { github } from "./github.ts";
import { gitlab } from "./gitlab.ts";
import { gogs } from "./gogs.ts";
import { hmac } from "./hmac.ts";
import { ipfabric } from "./ipfabric.ts";
import { jira } from "./jira.ts";
import { linear } from "./linear.ts";
import { mailgun } from "./mailgun.ts";
import { meta } from "./meta.ts";
import { msgraph } from "./msgraph.ts";
import { netbox } from "./netbox.ts";
import { none } from "./none.ts";
import { paddle } from "./paddle.ts";
import { pagerduty } from "./pagerduty.ts";
import { sendgrid } from "./sendgrid.ts";
import { sentry } from "./sentry.ts";
import { shopify } from "./shopify.ts";
import { slack } from "./slack.ts";
import { standard } from "./standard.ts";
import { stripe } from "./stripe.ts";
import { token } from "./token.ts";
import { twitch } from "./twitch.ts";
import { twilio } from "./twilio.ts";
import { typeform } from "./typeform.ts";
import { woocommerce } from "./woocommerce.ts";
import { zoom } from "./zoom.ts";

export type * from "./types.ts";
export { nestedDeeperThan } from "./json_depth.ts";

/** Every provider, by the name written in `HOOKD_<NAME>_PROVIDER`. */
export const PROVIDERS: ReadonlyMap<string, Provider> = new Map(
  [
    github,
    gitea,
    forgejo,
    gogs,
    gitlab,
    bitbucket,
    stripe,
    standard,
    slack,
    shopify,
    discord,
    linear,
    sentry,
    paddle,
    pagerduty,
    zoom,
    typeform,
    calendly,
    jira,
    mailgun,
    sendgrid,
    twilio,
    netbox,
    ipfabric,
    meta,
    dropbox,
    twitch,
    msgraph,
    vercel,
    circleci,
    intercom,
    hubspot,
    square,
    lemonsqueezy,
    docusign,
    mux,
    contentful,
    woocommerce,
    clerk,
    resend,
    postmark,
    azureDevops,
    hmac,
    token,
    none,
  ].map((p) => [p.name, p]),
);

/**
 * Build an endpoint's verify function, importing its keys once.
 *
 * @throws {Error} when the provider is unknown or a key cannot be imported
 */
export function createVerifier(endpoint: EndpointSettings): Promise<Verify> {
  const provider = PROVIDERS.get(endpoint.provider);
  if (!provider) {
    throw new Error(`${endpoint.prefix}PROVIDER is not a known provider: ${endpoint.provider}`);
  }
  return provider.create(endpoint);
}
