package dev.sluice.extensions.filters.http.ext_authz;

import java.util.Map;

/**
 * A route's compiled {@code ExtAuthzPerRoute}: {@code disabled} skips the check there;
 * {@code check_settings} adds {@code context_extensions} to the check and may turn request body
 * buffering off.
 */
record ExtAuthzPerRouteConfig(boolean disabled, Map<String, String> contextExtensions, boolean disableRequestBodyBuffering) {}
