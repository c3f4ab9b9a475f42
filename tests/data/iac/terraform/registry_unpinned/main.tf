module "nina" {
  source = "terraform-aws-modules/iam/aws//modules/iam-user"

  name = "nina"
}
