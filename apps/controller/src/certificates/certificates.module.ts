import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { ConvergenceModule } from '../convergence/convergence.module';
import { AcmeIssuerService } from './acme-issuer.service';
import { AcmeOrdersService } from './acme-orders.service';
import { CertificatePassesLoop } from './certificate-passes-loop.service';
import { CertificateProjectionService } from './certificate-projection.service';
import { CertificatesController } from './certificates.controller';
import { CertificatesRepository } from './certificates.repository';
import { CertificatesService } from './certificates.service';
import { LocalCaService } from './local-ca.service';
import { PlatformSecretService } from './platform-secret.service';

/**
 * Certificates (docs/https.md): the API (upload, ACME order, list, delete), their projection into
 * Redis for the routers, ACME orders and renewals, and the local CA with the platform's own
 * certificate. Runs its passes on the convergence leader.
 */
@Module({
  imports: [AuthModule, AuditModule, ConvergenceModule],
  controllers: [CertificatesController],
  providers: [
    CertificatesRepository,
    PlatformSecretService,
    CertificateProjectionService,
    AcmeIssuerService,
    AcmeOrdersService,
    LocalCaService,
    CertificatesService,
    CertificatePassesLoop,
  ],
  exports: [CertificateProjectionService],
})
export class CertificatesModule {}
