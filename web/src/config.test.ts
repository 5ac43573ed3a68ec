import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./config";

describe("parseConfig", () => {
  it("reads the API URL and an optional default key", () => {
    expect(parseConfig({ apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com/" })).toEqual({
      apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com",
      apiKey: null,
    });
    expect(parseConfig({ apiUrl: "http://127.0.0.1:8787", apiKey: "rc_local" }).apiKey).toBe("rc_local");
  });

  it.each([null, [], {}, { apiUrl: "ftp://x" }, { apiUrl: "https://x", apiKey: 7 }])("refuses %j", (raw) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
  });
});
