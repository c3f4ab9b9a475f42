module "ivan" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-user"
  version = "5.48.0"

  name                  = "ivan"
  create_iam_access_key = false
}
