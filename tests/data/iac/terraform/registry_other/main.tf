module "mallory" {
  source  = "cloudposse/iam-user/aws"
  version = "1.2.0"

  name      = "mallory"
  user_name = "mallory@example.com"
}
