module "judy" {
  source  = "registry.terraform.io/terraform-aws-modules/iam/aws//modules/iam-user"
  version = ">= 5.0, < 6.0"

  name                          = "judy"
  create_iam_user_login_profile = false
}
