module "leo" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-user"
  version = "5.39.1"

  name                  = "leo"
  create_iam_access_key = false
}

# The module's own key is off, but a key is made beside it.
resource "aws_iam_access_key" "leo" {
  user = module.leo.iam_user_name
}
