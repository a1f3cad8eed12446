/** Where a service's portal pages are. */
export const servicePath = (id: string) => `/portal/services/${encodeURIComponent(id)}`;
