/** The request bodies of the security groups API: the contracts' schemas, the one definition shared with the CLI. */
export {
  bindSecurityGroupSchema,
  createSecurityGroupSchema,
  updateSecurityGroupSchema,
  securityGroupLifecycleSchema,
  type BindSecurityGroupRequest,
  type CreateSecurityGroupRequest,
  type UpdateSecurityGroupRequest,
  type SecurityGroupLifecycle,
  type SecurityGroupRule,
  type SecurityGroupView,
} from '@paas/contracts';
