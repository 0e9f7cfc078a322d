/** The platform version every service reports. */
export const PLATFORM_VERSION = '0.1.0';
