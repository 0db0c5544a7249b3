package dev.aegis.admin;

/** One method on one path of the admin API. */
@FunctionalInterface
interface Endpoint {

    /** @throws ApiException to answer with an error status and a JSON error body */
    Reply handle(ApiRequest request);
}
