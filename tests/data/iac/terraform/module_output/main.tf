module "staff" {
  source = "./modules/staff"
  name   = "kim"
}

# The password and the key are made at the root for the module's user.
resource "aws_iam_user_login_profile" "kim" {
  user = module.staff.user_name
}

resource "aws_iam_access_key" "kim" {
  user = module.staff.user_name
}
