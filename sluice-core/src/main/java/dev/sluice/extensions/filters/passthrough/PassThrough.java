package dev.sluice.extensions.filters.passthrough;

import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.server.Logging;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;

/**
 * What a filter accepted without its behaviour does: nothing to the traffic (an HTTP filter that
 * continues at every step, a network filter that installs no handler), and one info line per
 * filter name and process saying so, so that a sidecar's listeners load (no NACK) while the
 * behaviour is still owned by later work.
 */
public final class PassThrough {
  private static final Logger LOG = Logging.logger("filter");
  private static final Set<String> ANNOUNCED = ConcurrentHashMap.newKeySet();

  /** Continues at every step: the default of each {@link HttpFilter} method. Stateless, so shared. */
  public static final HttpFilter HTTP_FILTER = new HttpFilter() {};

  /** Installs nothing on the connection: bytes go on to the next filter untouched. */
  public static final NetworkFilter NETWORK_FILTER = connection -> {};

  private PassThrough() {}

  /**
   * Logs once per {@code filterName} and {@code missing} (control thread, at config time) that the filter is accepted
   * without {@code missing}, and which work owns it.
   *
   * @return whether this call logged (the first for that name)
   */
  public static boolean announce(String filterName, String missing, String owner) {
    if (!ANNOUNCED.add(filterName + " / " + missing)) {
      return false;
    }
    LOG.info("{} is accepted without its {} yet (owned by {}); it passes traffic unchanged",
        filterName, missing, owner);
    return true;
  }
}
