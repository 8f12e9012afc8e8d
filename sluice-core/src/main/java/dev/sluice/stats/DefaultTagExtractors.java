package dev.sluice.stats;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's default tag extractors ({@code source/common/config/well_known_names.cc}): the same tag
 * names, patterns and order, so tag-extracted names and Prometheus labels match Envoy's. Listed
 * roughly from most to least specific; each pattern is written not to disturb the others.
 */
final class DefaultTagExtractors {
  static final String CLUSTER_NAME = "envoy.cluster_name";
  static final String LISTENER_ADDRESS = "envoy.listener_address";
  static final String HTTP_CONN_MANAGER_PREFIX = "envoy.http_conn_manager_prefix";
  static final String HTTP_USER_AGENT = "envoy.http_user_agent";
  static final String SSL_CIPHER = "envoy.ssl_cipher";
  static final String SSL_CIPHER_SUITE = "cipher_suite";
  static final String SSL_CURVE = "envoy.ssl_curve";
  static final String SSL_SIGALG = "envoy.ssl_sigalg";
  static final String SSL_VERSION = "envoy.ssl_version";
  static final String CLIENTSSL_PREFIX = "envoy.clientssl_prefix";
  static final String MONGO_PREFIX = "envoy.mongo_prefix";
  static final String MONGO_CMD = "envoy.mongo_cmd";
  static final String MONGO_COLLECTION = "envoy.mongo_collection";
  static final String MONGO_CALLSITE = "envoy.mongo_callsite";
  static final String RATELIMIT_PREFIX = "envoy.ratelimit_prefix";
  static final String LOCAL_HTTP_RATELIMIT_PREFIX = "envoy.local_http_ratelimit_prefix";
  static final String LOCAL_NETWORK_RATELIMIT_PREFIX = "envoy.local_network_ratelimit_prefix";
  static final String LOCAL_LISTENER_RATELIMIT_PREFIX = "envoy.local_listener_ratelimit_prefix";
  static final String DNS_FILTER_PREFIX = "envoy.dns_filter_prefix";
  static final String TCP_PREFIX = "envoy.tcp_prefix";
  static final String UDP_PREFIX = "envoy.udp_prefix";
  static final String FAULT_DOWNSTREAM_CLUSTER = "envoy.fault_downstream_cluster";
  static final String DYNAMO_OPERATION = "envoy.dynamo_operation";
  static final String DYNAMO_TABLE = "envoy.dynamo_table";
  static final String DYNAMO_PARTITION_ID = "envoy.dynamo_partition_id";
  static final String GRPC_BRIDGE_SERVICE = "envoy.grpc_bridge_service";
  static final String GRPC_BRIDGE_METHOD = "envoy.grpc_bridge_method";
  static final String VIRTUAL_HOST = "envoy.virtual_host";
  static final String VIRTUAL_CLUSTER = "envoy.virtual_cluster";
  static final String RESPONSE_CODE = "envoy.response_code";
  static final String RESPONSE_CODE_CLASS = "envoy.response_code_class";
  static final String RDS_ROUTE_CONFIG = "envoy.rds_route_config";
  static final String ROUTE = "envoy.route";
  static final String EXT_AUTHZ_PREFIX = "envoy.ext_authz_prefix";
  static final String WORKER_ID = "envoy.worker_id";
  static final String THRIFT_PREFIX = "envoy.thrift_prefix";
  static final String REDIS_PREFIX = "envoy.redis_prefix";

  // Shorthands expanded into the regexes below.
  private static final String TAG_VALUE = "[^\\.]+";
  private static final String ADDRESS =
      "(?:(?:\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|\\[[a-fA-F_\\d]+\\])_\\d+)";
  private static final String CIPHER = "[\\w-]+";
  private static final String TLS_VERSION = "TLSv\\d\\.\\d";
  private static final String ROUTE_CONFIG_NAME = "[\\w\\-\\.]+";
  private static final String LISTENER_OR_CLUSTER = "(?:listener|cluster)\\..*?";

  // Extractors are immutable, so one list serves every tag producer.
  private static final List<TagExtractor> ALL = build();

  private DefaultTagExtractors() {}

  static List<TagExtractor> all() {
    return ALL;
  }

  private static List<TagExtractor> build() {
    List<TagExtractor> d = new ArrayList<>();
    // *_rq(_<response_code>)
    re(d, RESPONSE_CODE, "_rq(_(\\d{3}))$", "_rq_", null);
    // *_rq_(<response_code_class>)xx
    re(d, RESPONSE_CODE_CLASS, "_rq_((\\d))xx$", "_rq_", null);
    // http.<prefix>.dynamodb.table.<table>.capacity.<op>(.__partition_id=<id>)
    re(d, DYNAMO_PARTITION_ID,
        "^http\\." + TAG_VALUE + "\\.dynamodb\\.table\\." + TAG_VALUE + "\\.capacity\\." + TAG_VALUE
            + "(\\.__partition_id=(\\w{7}))$",
        ".dynamodb.table.", null);
    // http.<prefix>.dynamodb.operation.(<op>.)* or ...dynamodb.table.<t>.capacity.(<op>.)*
    re(d, DYNAMO_OPERATION,
        "^http\\." + TAG_VALUE + "\\.dynamodb.(?:operation|table\\." + TAG_VALUE + "\\.capacity)(\\.("
            + TAG_VALUE + "))(?:\\.|$)",
        ".dynamodb.", null);
    tok(d, MONGO_CALLSITE, "mongo.*.collection.*.callsite.$.query.**");
    // http.<prefix>.dynamodb.(table|error).(<table>.)*
    re(d, DYNAMO_TABLE,
        "^http\\." + TAG_VALUE + "\\.dynamodb.(?:table|error)\\.((" + TAG_VALUE + ")\\.)",
        ".dynamodb.", null);
    tok(d, MONGO_COLLECTION, "mongo.*.collection.$.**.query.*");
    tok(d, MONGO_CMD, "mongo.*.cmd.$.**");
    tok(d, GRPC_BRIDGE_METHOD, "cluster.*.grpc.*.$.**");
    tok(d, HTTP_USER_AGENT, "http.*.user_agent.$.**");
    tok(d, VIRTUAL_CLUSTER, "vhost.*.vcluster.$.**");
    tok(d, FAULT_DOWNSTREAM_CLUSTER, "http.*.fault.$.**");
    re(d, SSL_CIPHER, "^listener\\..*?\\.ssl\\.ciphers(\\.(" + CIPHER + "))$", ".ssl.ciphers.", null);
    re(d, SSL_CURVE, "^" + LISTENER_OR_CLUSTER + "\\.ssl\\.curves(\\.(" + CIPHER + "))$",
        ".ssl.curves.", null);
    re(d, SSL_SIGALG, "^" + LISTENER_OR_CLUSTER + "\\.ssl\\.sigalgs(\\.(" + CIPHER + "))$",
        ".ssl.sigalgs.", null);
    re(d, SSL_VERSION, "^" + LISTENER_OR_CLUSTER + "\\.ssl\\.versions(\\.(" + TLS_VERSION + "))$",
        ".ssl.versions.", null);
    re(d, SSL_CIPHER_SUITE,
        "^cluster\\." + TAG_VALUE + "\\.ssl\\.ciphers(\\.(" + CIPHER + "))$", ".ssl.ciphers.", null);
    tok(d, GRPC_BRIDGE_SERVICE, "cluster.*.grpc.$.**");
    tok(d, TCP_PREFIX, "tcp.$.**");
    tok(d, UDP_PREFIX, "udp.$.**");
    tok(d, CLIENTSSL_PREFIX, "auth.clientssl.$.**");
    tok(d, RATELIMIT_PREFIX, "ratelimit.$.**");
    tok(d, CLUSTER_NAME, "cluster.$.**");
    // listener.<address>.http.(<prefix>.)*
    re(d, HTTP_CONN_MANAGER_PREFIX, "^listener\\..*?\\.http\\.((" + TAG_VALUE + ")\\.)", ".http.",
        null);
    tok(d, EXT_AUTHZ_PREFIX, "cluster.*.ext_authz.$.**");
    tok(d, EXT_AUTHZ_PREFIX, "http.*.ext_authz.$.**");
    tok(d, HTTP_CONN_MANAGER_PREFIX, "http.$.**");
    // listener.<address|prefix>.(worker_<id>.)*, listener_manager.(worker_<id>.)*, server.(worker_..)
    re(d, WORKER_ID,
        "^(?:listener\\.(?:" + ADDRESS + "|" + TAG_VALUE
            + ")\\.|server\\.|listener_manager\\.)worker_((\\d+)\\.)",
        "", null);
    // listener.(<address|stat_prefix>.)*, but not the admin listener
    re(d, LISTENER_ADDRESS, "^listener\\.((" + ADDRESS + "|" + TAG_VALUE + ")\\.)", "", "admin");
    tok(d, VIRTUAL_HOST, "vhost.$.**");
    tok(d, MONGO_PREFIX, "mongo.$.**");
    // http.<prefix>.rds.(<route_config_name>.)<stat>; route config names may contain dots
    re(d, RDS_ROUTE_CONFIG,
        "^http\\." + TAG_VALUE + "\\.rds\\.((" + ROUTE_CONFIG_NAME + ")\\.)\\w+?$", ".rds.", null);
    tok(d, ROUTE, "vhost.*.route.$.**");
    tok(d, THRIFT_PREFIX, "thrift.$.**");
    tok(d, REDIS_PREFIX, "redis.$.**");
    tok(d, LOCAL_HTTP_RATELIMIT_PREFIX, "$.http_local_rate_limit.**");
    tok(d, LOCAL_NETWORK_RATELIMIT_PREFIX, "local_rate_limit.$.**");
    tok(d, LOCAL_LISTENER_RATELIMIT_PREFIX, "listener_local_ratelimit.$.**");
    tok(d, DNS_FILTER_PREFIX, "dns_filter.$.**");
    return List.copyOf(d);
  }

  private static void re(
      List<TagExtractor> d, String name, String regex, String substr,
      @Nullable String negativeMatch) {
    d.add(RegexTagExtractor.builtIn(name, regex, substr, negativeMatch));
  }

  private static void tok(List<TagExtractor> d, String name, String pattern) {
    d.add(new TokenTagExtractor(name, pattern));
  }
}
