package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A compiled {@code common_tls_context} and what it currently builds into (an SslContext or a few).
 * Built once per config, and again only when a secret it refers to changes: the data path reads one
 * volatile field. While a referenced secret is missing, {@link #current()} is null (Envoy keeps such
 * a listener or cluster warming; connections on it are closed and counted).
 *
 * <p>Secret subscriptions hold this object weakly and are closed once it is unreachable, so a
 * replaced listener or cluster version needs no explicit release.
 *
 * @param <T> what one set of material builds into
 */
abstract class TlsContextSource<T> {
  private static final Logger log = LoggerFactory.getLogger(TlsContextSource.class);
  private static final Cleaner CLEANER = Cleaner.create();

  final String path;
  final TlsStats stats;
  final TlsParams params;
  final List<String> alpn;
  private final SecretProvider secrets;
  private final List<CertifiedKey> inlineCertificates;
  private final List<SdsSecretConfig> certificateSecrets;
  private final @Nullable CertificateValidationContext staticValidation;
  private final @Nullable SdsSecretConfig validationSecret;
  private volatile @Nullable T current;
  private volatile String notReadyReason = "not built yet";

  TlsContextSource(CommonTlsContext c, boolean server, SecretProvider secrets, TlsStats stats, String path) {
    this.path = path;
    this.stats = stats;
    this.secrets = secrets;
    rejectUnsupported(c, path);
    this.params = TlsParams.compile(c.getTlsParams(), server, path + ".tls_params");
    this.alpn = List.copyOf(c.getAlpnProtocolsList());
    List<CertifiedKey> inline = new ArrayList<>();
    for (int i = 0; i < c.getTlsCertificatesCount(); i++) {
      inline.add(TlsSecrets.load(c.getTlsCertificates(i), path + ".tls_certificates[" + i + "]"));
    }
    this.inlineCertificates = List.copyOf(inline);
    // As Envoy: inline certificates win over SDS ones.
    this.certificateSecrets = inline.isEmpty() ? List.copyOf(c.getTlsCertificateSdsSecretConfigsList()) : List.of();
    for (int i = 0; i < certificateSecrets.size(); i++) {
      requireName(certificateSecrets.get(i), path + ".tls_certificate_sds_secret_configs[" + i + "]");
    }
    switch (c.getValidationContextTypeCase()) {
      case VALIDATION_CONTEXT -> {
        staticValidation = c.getValidationContext();
        validationSecret = null;
      }
      case VALIDATION_CONTEXT_SDS_SECRET_CONFIG -> {
        staticValidation = null;
        validationSecret = requireName(c.getValidationContextSdsSecretConfig(), path + ".validation_context_sds_secret_config");
      }
      case COMBINED_VALIDATION_CONTEXT -> {
        var combined = c.getCombinedValidationContext();
        String p = path + ".combined_validation_context";
        staticValidation = combined.getDefaultValidationContext();
        validationSecret = requireName(combined.getValidationContextSdsSecretConfig(), p + ".validation_context_sds_secret_config");
        // The default part is checked now (its matchers must compile); the CA comes with the secret.
        SanMatcher.compile(staticValidation, p + ".default_validation_context");
      }
      case VALIDATION_CONTEXT_CERTIFICATE_PROVIDER, VALIDATION_CONTEXT_CERTIFICATE_PROVIDER_INSTANCE ->
          throw new ConfigException(path + ".validation_context_certificate_provider", "certificate providers are not supported");
      default -> {
        staticValidation = null;
        validationSecret = null;
      }
    }
  }

  private static void rejectUnsupported(CommonTlsContext c, String path) {
    if (c.hasTlsCertificateProviderInstance() || c.hasTlsCertificateCertificateProvider() || c.hasTlsCertificateCertificateProviderInstance()) {
      throw new ConfigException(path + ".tls_certificate_provider_instance", "certificate providers are not supported");
    }
    if (c.hasCustomHandshaker()) {
      throw new ConfigException(path + ".custom_handshaker", "custom handshakers are not supported");
    }
    if (c.hasCustomTlsCertificateSelector()) {
      throw new ConfigException(path + ".custom_tls_certificate_selector", "custom certificate selectors are not supported");
    }
    if (c.hasKeyLog()) {
      log.warn("{}.key_log is ignored: TLS key logging is not supported", path);
    }
  }

  private static SdsSecretConfig requireName(SdsSecretConfig s, String path) {
    if (s.getName().isEmpty()) {
      throw new ConfigException(path + ".name", "a secret name is required");
    }
    return s;
  }

  /** Builds what {@code material} makes (control thread). @throws ConfigException when it cannot */
  protected abstract T build(TlsMaterial material);

  /**
   * Subscribes to the referenced secrets and builds the first version. A context whose material is
   * all inline must build now (a bad one is a config error); one waiting for secrets may start
   * unusable.
   */
  final void start(boolean requireCertificate) {
    if (requireCertificate && inlineCertificates.isEmpty() && certificateSecrets.isEmpty()) {
      throw new ConfigException(path, "No TLS certificates found for server context");
    }
    List<SdsSecretConfig> refs = new ArrayList<>(certificateSecrets);
    if (validationSecret != null) {
      refs.add(validationSecret);
    }
    if (refs.isEmpty()) {
      current = build(new TlsMaterial(inlineCertificates.isEmpty() ? null : firstOf(inlineCertificates), verifier(staticValidation)));
      return;
    }
    WeakReference<TlsContextSource<T>> self = new WeakReference<>(this);
    List<SecretProvider.Subscription> subscriptions = new ArrayList<>();
    for (SdsSecretConfig ref : refs) {
      subscriptions.add(secrets.subscribe(ref, () -> {
        TlsContextSource<T> s = self.get();
        if (s != null) {
          s.rebuild(true);
        }
      }));
    }
    CLEANER.register(this, () -> subscriptions.forEach(SecretProvider.Subscription::close));
    rebuild(false);
  }

  /** The current build, or null while a referenced secret is missing. One volatile read. */
  final @Nullable T current() {
    return current;
  }

  /** Why {@link #current()} is null (for logs). */
  final String notReadyReason() {
    return notReadyReason;
  }

  private synchronized void rebuild(boolean bySds) {
    TlsMaterial material;
    try {
      material = resolve();
    } catch (ConfigException e) {
      log.warn("{}: TLS context not updated, its secret is unusable: {}", path, e.getMessage());
      return;
    }
    if (material == null) {
      return;
    }
    try {
      current = build(material);
      if (bySds) {
        stats.contextUpdateBySds.inc();
      }
    } catch (ConfigException e) {
      // Keep serving with the previous context (Envoy rejects the update likewise).
      log.warn("{}: TLS context not updated: {}", path, e.getMessage());
    }
  }

  /** The material with every referenced secret resolved, or null (reason recorded) when one is missing. */
  private @Nullable TlsMaterial resolve() {
    CertifiedKey certificate = inlineCertificates.isEmpty() ? null : firstOf(inlineCertificates);
    List<CertifiedKey> fromSds = new ArrayList<>();
    for (SdsSecretConfig ref : certificateSecrets) {
      Secret s = secrets.secret(ref.getName());
      if (s == null || !s.hasTlsCertificate()) {
        return notReady("secret '" + ref.getName() + "' (tls_certificate) is not available");
      }
      fromSds.add(TlsSecrets.load(s.getTlsCertificate(), "secret '" + ref.getName() + "'.tls_certificate"));
    }
    if (!fromSds.isEmpty()) {
      certificate = firstOf(fromSds);
    }
    CertificateValidationContext validation = staticValidation;
    if (validationSecret != null) {
      Secret s = secrets.secret(validationSecret.getName());
      if (s == null || !s.hasValidationContext()) {
        return notReady("secret '" + validationSecret.getName() + "' (validation_context) is not available");
      }
      // Combined: the SDS part is merged into the default one (proto MergeFrom: singular fields
      // override, repeated ones concatenate), as Envoy merges them.
      validation = staticValidation == null ? s.getValidationContext() : staticValidation.toBuilder().mergeFrom(s.getValidationContext()).build();
    }
    return new TlsMaterial(certificate, verifier(validation));
  }

  private @Nullable TlsMaterial notReady(String reason) {
    notReadyReason = reason;
    return null;
  }

  private PeerCertificateVerifier verifier(@Nullable CertificateValidationContext v) {
    return PeerCertificateVerifier.compile(v == null ? CertificateValidationContext.getDefaultInstance() : v, path + ".validation_context", stats);
  }

  private CertifiedKey firstOf(List<CertifiedKey> keys) {
    if (keys.size() > 1) {
      // Netty selects no certificate by SNI or key type here: the first one serves every connection.
      log.warn("{}: {} TLS certificates configured; only the first is used", path, keys.size());
    }
    return keys.get(0);
  }
}
