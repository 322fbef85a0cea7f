// Certificates for the throwaway cluster, made with openssl: one CA, and one admin key pair used for
// serving, client auth and service-account signing (as kwok's binary runtime does).
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  adminCert: string;
  adminKey: string;
}

export async function makePki(dir: string): Promise<Pki> {
  const p = (f: string) => join(dir, f);
  const pki: Pki = { caCert: p("ca.crt"), caKey: p("ca.key"), adminCert: p("admin.crt"), adminKey: p("admin.key") };
  if (existsSync(pki.adminCert)) return pki;
  const openssl = (...args: string[]) =>
    run("openssl", args).catch((err) => {
      throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${err.stderr || err.message}`);
    });
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "3650",
    "-subj",
    "/CN=ramp-dev-ca",
    "-keyout",
    pki.caKey,
    "-out",
    pki.caCert,
  );
  writeFileSync(
    p("admin.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=admin/O=system:masters",
    "-keyout",
    pki.adminKey,
    "-out",
    p("admin.csr"),
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    p("admin.csr"),
    "-CA",
    pki.caCert,
    "-CAkey",
    pki.caKey,
    "-CAcreateserial",
    "-days",
    "3650",
    "-extfile",
    p("admin.ext"),
    "-out",
    pki.adminCert,
  );
  return pki;
}
