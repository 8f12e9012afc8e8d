package dev.sluice.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.config.ConfigText;
import dev.sluice.config.ProtoTypes;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code path_config_source} (or the deprecated {@code path}): a file holding one
 * {@code DiscoveryResponse} ({@code .json}, {@code .yaml}/{@code .yml}, or binary {@code .pb}),
 * read at start and again whenever it changes, as Envoy's filesystem subscription. Without
 * {@code watched_directory} the file's directory is watched for the file being moved in (the
 * atomic way to replace it) or written; with one, any entry moved into that directory reloads the
 * file (a Kubernetes ConfigMap's symlink swap). The file carries the whole state: for Listener and
 * Cluster a resource no longer in it is removed. A file that cannot be read or parsed, or a
 * resource the handler refuses, counts {@code update_rejected} (CDS/LDS) and keeps what was
 * applied. Each source serves one type.
 */
final class FileSubscription implements XdsSource {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");

  private final Path path;
  private final @Nullable Path watchedDirectory;
  private final ScheduledExecutorService control;
  private final StatsScope stats;
  private @Nullable XdsResourceType type;
  private @Nullable ResourceHandler handler;
  private @Nullable SubscriptionStats subscriptionStats;
  private Set<String> known = new HashSet<>();
  private String acceptedVersion = "";
  private @Nullable WatchService watcher;
  private boolean started;
  private volatile boolean closed;

  FileSubscription(Path path, @Nullable Path watchedDirectory, ScheduledExecutorService control, StatsScope stats) {
    this.path = path;
    this.watchedDirectory = watchedDirectory;
    this.control = control;
    this.stats = stats;
  }

  @Override
  public void subscribe(XdsResourceType type, @Nullable Set<String> names, ResourceHandler handler) {
    if (this.type != null) {
      throw new IllegalStateException("file " + path + " already serves " + this.type);
    }
    this.type = type;
    this.handler = handler;
    String prefix = type.statsPrefix();
    this.subscriptionStats = prefix == null ? null : new SubscriptionStats(stats.scope(prefix));
    if (started) {
      reload();
    }
  }

  /** The file holds what it holds: every resource in it is delivered, whatever the names. */
  @Override
  public void updateNames(XdsResourceType type, Set<String> names) {}

  @Override
  public void start() {
    if (started) {
      return;
    }
    started = true;
    watch();
    reload();
  }

  @Override
  public String acceptedVersion(XdsResourceType type) {
    return type == this.type ? acceptedVersion : "";
  }

  @Override
  public boolean subscribed(XdsResourceType type) {
    return type == this.type;
  }

  /** Reads the file and applies it (control thread). */
  void reload() {
    XdsResourceType t = type;
    ResourceHandler h = handler;
    if (t == null || h == null || closed) {
      return;
    }
    SubscriptionStats st = subscriptionStats;
    if (st != null) {
      st.updateAttempt.inc();
    }
    DiscoveryResponse response;
    try {
      response = read();
    } catch (IOException | ConfigException e) {
      log.warn("{}: cannot read {}: {}", t, path, e.getMessage());
      if (st != null) {
        st.updateRejected.inc();
      }
      return;
    }
    List<ResourceError> errors = new ArrayList<>();
    Map<String, Message> decoded = new LinkedHashMap<>();
    Map<String, @Nullable Duration> ttls = new HashMap<>();
    for (int i = 0; i < response.getResourcesCount(); i++) {
      AdsClient.decode(t, response.getResources(i), i, decoded, errors, null, ttls);
    }
    Set<String> removed = new HashSet<>();
    if (t.fullStateRemovals()) {
      removed.addAll(known);
      removed.removeAll(decoded.keySet());
      errors.forEach(e -> removed.remove(e.name()));
      known = new HashSet<>(decoded.keySet());
      errors.forEach(e -> known.add(e.name()));
    }
    try {
      errors.addAll(h.apply(new ResourceHandler.Update(response.getVersionInfo(), decoded, removed)));
    } catch (RuntimeException e) {
      log.error("applying {} from {} failed", t, path, e);
      errors.add(new ResourceError("*", "internal error: " + e));
    }
    if (errors.isEmpty()) {
      acceptedVersion = response.getVersionInfo();
      if (st != null) {
        st.accepted(acceptedVersion, System.currentTimeMillis());
      }
    } else {
      log.warn("{} from {} version {} rejected: {}", t, path, response.getVersionInfo(), AdsClient.message(t, errors));
      if (st != null) {
        st.updateRejected.inc();
      }
    }
  }

  private DiscoveryResponse read() throws IOException {
    String name = path.getFileName().toString();
    DiscoveryResponse.Builder b = DiscoveryResponse.newBuilder();
    if (name.endsWith(".pb")) {
      try {
        return b.mergeFrom(Files.readAllBytes(path)).build();
      } catch (InvalidProtocolBufferException e) {
        throw new ConfigException(path.toString(), "not a binary DiscoveryResponse: " + e.getMessage());
      }
    }
    boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
    if (!yaml && !name.endsWith(".json")) {
      throw new ConfigException(path.toString(), "unsupported extension (.json, .yaml, .yml or .pb)");
    }
    String text = Files.readString(path, StandardCharsets.UTF_8);
    try {
      ProtoTypes.get().parser(false).merge(ConfigText.read(text, yaml).toString(), b);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path.toString(), "not a DiscoveryResponse: " + e.getMessage());
    }
    return b.build();
  }

  /** A daemon thread waits on the directory's inotify watch and hands each change to the control thread. */
  private void watch() {
    Path dir = watchedDirectory != null ? watchedDirectory : path.toAbsolutePath().getParent();
    try {
      WatchService w = dir.getFileSystem().newWatchService();
      dir.register(w, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
      watcher = w;
      Thread.ofPlatform().daemon().name("sluice-xds-file-" + path.getFileName()).start(() -> watchLoop(w));
    } catch (IOException e) {
      log.error("cannot watch {} for changes; {} is read once: {}", dir, path, e.getMessage());
    }
  }

  private void watchLoop(WatchService w) {
    Path file = path.getFileName();
    try {
      while (!closed) {
        WatchKey key = w.take();
        boolean reload = false;
        for (WatchEvent<?> event : key.pollEvents()) {
          if (watchedDirectory != null) {
            // As Envoy: a move into the watched directory reloads the path.
            reload |= event.kind() == StandardWatchEventKinds.ENTRY_CREATE;
          } else {
            reload |= file.equals(event.context());
          }
        }
        key.reset();
        if (reload && !control.isShutdown()) {
          control.execute(this::reload);
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closed
    }
  }

  @Override
  public void close() {
    closed = true;
    WatchService w = watcher;
    if (w != null) {
      try {
        w.close();
      } catch (IOException e) {
        log.debug("closing the watch of {}: {}", path, e.getMessage());
      }
    }
  }
}
